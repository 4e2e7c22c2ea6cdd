"""Message franking: verifiable abuse reports for end-to-end encrypted messages (design note 03).

No I/O: bytes, keys and time in; commitments, tags, verdicts and attestations out.

* sender: ``new_franking_key``, ``commit`` over ``FrankingMeta`` and the body;
* relay: ``TagKeyring`` (monthly keys, 13-month retention) and ``tag`` over (c, ``ServerEnvelope``);
* recipient: ``verify_received`` -> ``ReceiveVerdict``; keep a ``FrankingBundle`` for the window;
* platform: ``verify_report`` -> ``ReportVerdict``; ``attest_report`` / ``verify_attestation``.
"""

from fulcrum.franking.attestation import (
    AttestedItem,
    ReportAttestation,
    attest_report,
    attestation_key_id,
    verify_attestation,
)
from fulcrum.franking.bundle import (
    DEFAULT_KEEP_WINDOW,
    FrankingBundle,
    keep_until,
    prune_bundles,
    within_keep_window,
)
from fulcrum.franking.commitment import (
    AttachmentOpening,
    attachment_matches,
    commit,
    commitment_matches,
    new_franking_key,
)
from fulcrum.franking.envelope import GroupAudience, ServerEnvelope, members_hash
from fulcrum.franking.errors import (
    AttestationError,
    FrankingError,
    FrankingFormatError,
    ReportError,
    TagKeyUnavailable,
)
from fulcrum.franking.meta import GENESIS_PREV, AttachmentRef, FrankingMeta
from fulcrum.franking.receive import ReceiveFailure, ReceiveVerdict, verify_received
from fulcrum.franking.report import (
    DEFAULT_CONTEXT_MESSAGES,
    AbuseReport,
    MessageVerdict,
    ReasonCode,
    ReportedMessage,
    ReportVerdict,
    VerdictCode,
    report_context,
    verify_report,
)
from fulcrum.franking.tagkeys import (
    KeyDestroyed,
    KeyRotated,
    TagCheck,
    TagKey,
    TagKeyring,
    check_tag,
    kid_expires_at,
    kid_for,
    next_rotation_at,
    tag,
)

__all__ = [
    "DEFAULT_CONTEXT_MESSAGES",
    "DEFAULT_KEEP_WINDOW",
    "GENESIS_PREV",
    "AbuseReport",
    "AttachmentOpening",
    "AttachmentRef",
    "AttestationError",
    "AttestedItem",
    "FrankingBundle",
    "FrankingError",
    "FrankingFormatError",
    "FrankingMeta",
    "GroupAudience",
    "KeyDestroyed",
    "KeyRotated",
    "MessageVerdict",
    "ReasonCode",
    "ReceiveFailure",
    "ReceiveVerdict",
    "ReportAttestation",
    "ReportError",
    "ReportVerdict",
    "ReportedMessage",
    "ServerEnvelope",
    "TagCheck",
    "TagKey",
    "TagKeyUnavailable",
    "TagKeyring",
    "VerdictCode",
    "attachment_matches",
    "attest_report",
    "attestation_key_id",
    "check_tag",
    "commit",
    "commitment_matches",
    "keep_until",
    "kid_expires_at",
    "kid_for",
    "members_hash",
    "new_franking_key",
    "next_rotation_at",
    "prune_bundles",
    "report_context",
    "tag",
    "verify_attestation",
    "verify_received",
    "verify_report",
    "within_keep_window",
]
