"""A trustee run as its own process (``fulcrum trustee serve``; see docs/operator-guide.md).

It holds ONE trustee's key store directory (``TrusteeKeyStore``: identity key, box key and epoch
shares). It takes part in each epoch's DKG through the platform's coordinator, which only relays
signed messages and sealed shares (``dkg.py``); it decides on warrants (``approval.py``) and answers
``POST /partials`` only after reading the platform's transparency log itself and verifying it under
pinned log and witness keys (``PlatformLog``). It destroys its own share of an epoch once ITS
retention rule (``EpochRules``) allows, and signs a statement the platform logs
(``destruction.py``).
"""

from fulcrum.trustee.approval import DECISION_SIGNATURE_LABEL, sign_decision, verify_decision
from fulcrum.trustee.destruction import (
    DestructionRefused,
    EpochRules,
    ShareDestruction,
    SignedDestruction,
    StatementInvalid,
    destroy_own_share,
)
from fulcrum.trustee.dkg import DkgRefused, TrusteeDkg, WindowRefused
from fulcrum.trustee.evidence import EvidenceError, LogView, PlatformLog
from fulcrum.trustee.http import (
    APPROVALS_PATH,
    DEFAULT_RULES,
    PARTIALS_PATH,
    TrusteeFailure,
    create_trustee_app,
    token_hash,
)

__all__ = [
    "APPROVALS_PATH",
    "DECISION_SIGNATURE_LABEL",
    "DEFAULT_RULES",
    "PARTIALS_PATH",
    "DestructionRefused",
    "DkgRefused",
    "EpochRules",
    "EvidenceError",
    "LogView",
    "PlatformLog",
    "ShareDestruction",
    "SignedDestruction",
    "StatementInvalid",
    "TrusteeDkg",
    "TrusteeFailure",
    "WindowRefused",
    "create_trustee_app",
    "destroy_own_share",
    "sign_decision",
    "token_hash",
    "verify_decision",
]
