"""A trustee run as its own process (``fulcrum trustee serve``; see docs/operator-guide.md).

It holds ONE trustee's key store directory (``TrusteeKeyStore``: identity key, box key and epoch
shares). It takes part in each epoch's DKG through the platform's coordinator, which only relays
signed messages and sealed shares (``dkg.py``); it decides on warrants (``approval.py``) and answers
``POST /partials`` only after reading the platform's transparency log itself and verifying it under
pinned log and witness keys (``PlatformLog``).
"""

from fulcrum.trustee.approval import DECISION_SIGNATURE_LABEL, sign_decision, verify_decision
from fulcrum.trustee.dkg import DkgRefused, TrusteeDkg
from fulcrum.trustee.evidence import EvidenceError, LogView, PlatformLog
from fulcrum.trustee.http import (
    APPROVALS_PATH,
    PARTIALS_PATH,
    TrusteeFailure,
    create_trustee_app,
    token_hash,
)

__all__ = [
    "APPROVALS_PATH",
    "DECISION_SIGNATURE_LABEL",
    "PARTIALS_PATH",
    "DkgRefused",
    "EvidenceError",
    "LogView",
    "PlatformLog",
    "TrusteeDkg",
    "TrusteeFailure",
    "create_trustee_app",
    "sign_decision",
    "token_hash",
    "verify_decision",
]
