"""A trustee run as its own process (``fulcrum trustee serve``; see docs/operator-guide.md).

It holds ONE trustee's key store directory (``TrusteeKeyStore``: identity key and epoch shares)
and answers ``POST /partials`` only after reading the platform's transparency log itself and
verifying it under pinned log and witness keys (``PlatformLog``), then running
``fulcrum.access.answer_request``. The DKG still runs in the platform's process; the trustee's
share directory is then handed to its host.
"""

from fulcrum.trustee.evidence import EvidenceError, LogView, PlatformLog
from fulcrum.trustee.http import PARTIALS_PATH, TrusteeFailure, create_trustee_app, token_hash

__all__ = [
    "PARTIALS_PATH",
    "EvidenceError",
    "LogView",
    "PlatformLog",
    "TrusteeFailure",
    "create_trustee_app",
    "token_hash",
]
