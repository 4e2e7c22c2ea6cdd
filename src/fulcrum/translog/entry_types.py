"""The entry types of the Fulcrum transparency log (schema version 1 each).

Field conventions are in ``fulcrum.translog.entries``. Identifiers (warrant, request, trustee, key
IDs) are opaque strings chosen by the issuing component; none of them may be or contain a user
identifier. Targets of warrants appear only as salted commitments (``commit_target``).
"""

from __future__ import annotations

from dataclasses import dataclass

from fulcrum.translog.entries import (
    Blob,
    Blobs,
    Counts,
    Digest,
    LogEntry,
    Names,
    PublicKey,
    register,
)


@register
@dataclass(frozen=True, kw_only=True)
class EpochKey(LogEntry):
    """An escrow epoch public key and the trustee set that holds its shares."""

    TYPE = "EpochKey"
    epoch: int
    public_key: Blob
    threshold: int
    trustees: Names
    valid_from: int
    valid_until: int


@register
@dataclass(frozen=True, kw_only=True)
class WarrantRegistered(LogEntry):
    """A warrant entered the system. The target is only a salted commitment (>= 128-bit salt).

    Public fields (design 04, step 1): the requesting ``agency`` and ``jurisdiction``, how many
    targets it names (``target_count``, never who), the window (``scope_start``/``scope_end``)
    split into its prospective (``forward_seconds``) and retrospective (``back_seconds``) parts,
    and ``notify_after``, when the targets are told unless a logged extension delays it.
    """

    TYPE = "WarrantRegistered"
    warrant_id: str
    agency: str
    jurisdiction: str
    warrant_digest: Digest
    target_commitment: Digest
    target_count: int
    judge_key_id: str
    approvals_required: int
    max_messages: int
    scope_start: int
    scope_end: int
    forward_seconds: int
    back_seconds: int
    notify_after: int
    expires_at: int


@register
@dataclass(frozen=True, kw_only=True)
class TrusteeApproval(LogEntry):
    """One trustee's decision on a warrant: ``approved`` or denied, with the refusal ``reasons``
    (stable codes; the full decision document is hashed into ``approval_digest``). Only entries
    with ``approved=True`` count towards the approval quorum."""

    TYPE = "TrusteeApproval"
    warrant_id: str
    trustee_id: str
    approved: bool
    reasons: Names
    approval_digest: Digest


@register
@dataclass(frozen=True, kw_only=True)
class DecryptionRequested(LogEntry):
    TYPE = "DecryptionRequested"
    warrant_id: str
    request_id: str
    epoch: int
    field_count: int
    request_digest: Digest


@register
@dataclass(frozen=True, kw_only=True)
class PartialsIssued(LogEntry):
    TYPE = "PartialsIssued"
    warrant_id: str
    request_id: str
    trustee_id: str
    partial_count: int
    partials_digest: Digest


@register
@dataclass(frozen=True, kw_only=True)
class AccessCompleted(LogEntry):
    """Lawful access finished: which trustees' partials were combined, how many messages read."""

    TYPE = "AccessCompleted"
    warrant_id: str
    request_id: str
    trustees: Names
    messages_decrypted: int


@register
@dataclass(frozen=True, kw_only=True)
class EvidenceExported(LogEntry):
    TYPE = "EvidenceExported"
    case_id: str
    recipient: str
    bundle_digest: Digest
    item_count: int


@register
@dataclass(frozen=True, kw_only=True)
class NotificationDelayed(LogEntry):
    """User notification of an access is deferred by court order until ``delayed_until``."""

    TYPE = "NotificationDelayed"
    warrant_id: str
    order_digest: Digest
    delayed_until: int


@register
@dataclass(frozen=True, kw_only=True)
class WarrantUnsealed(LogEntry):
    TYPE = "WarrantUnsealed"
    warrant_id: str
    unsealed_digest: Digest


@register
@dataclass(frozen=True, kw_only=True)
class ShareDestroyed(LogEntry):
    """A trustee destroyed its key share for an expired epoch."""

    TYPE = "ShareDestroyed"
    epoch: int
    trustee_id: str
    attestation_digest: Digest


@register
@dataclass(frozen=True, kw_only=True)
class FrankingKeyRotated(LogEntry):
    TYPE = "FrankingKeyRotated"
    key_id: str
    key_commitment: Digest
    valid_from: int


@register
@dataclass(frozen=True, kw_only=True)
class FrankingKeyDestroyed(LogEntry):
    TYPE = "FrankingKeyDestroyed"
    key_id: str


@register
@dataclass(frozen=True, kw_only=True)
class BankManifest(LogEntry):
    """A hash bank version; ``source_signatures[i]`` is ``sources[i]``'s signature on it."""

    TYPE = "BankManifest"
    bank_id: str
    version: int
    manifest_digest: Digest
    entry_count: int
    sources: Names
    source_signatures: Blobs


@register
@dataclass(frozen=True, kw_only=True)
class AbuseReportStats(LogEntry):
    TYPE = "AbuseReportStats"
    period_start: int
    period_end: int
    counts: Counts


@register
@dataclass(frozen=True, kw_only=True)
class ClearinghouseReportFiled(LogEntry):
    TYPE = "ClearinghouseReportFiled"
    report_id: str
    clearinghouse: str
    category: str
    report_digest: Digest


@register
@dataclass(frozen=True, kw_only=True)
class TransparencyReport(LogEntry):
    """A published report; counts named after entry types must match the log (see audit)."""

    TYPE = "TransparencyReport"
    period_start: int
    period_end: int
    report_digest: Digest
    counts: Counts


@register
@dataclass(frozen=True, kw_only=True)
class SafetyRuleStats(LogEntry):
    TYPE = "SafetyRuleStats"
    rule_id: str
    period_start: int
    period_end: int
    counts: Counts


@register
@dataclass(frozen=True, kw_only=True)
class ReadinessRecord(LogEntry):
    """Result of the safety readiness gate; metrics are integers (e.g. per-mille rates)."""

    TYPE = "ReadinessRecord"
    component: str
    version: str
    passed: bool
    report_digest: Digest
    metrics: Counts


@register
@dataclass(frozen=True, kw_only=True)
class E2EEOverride(LogEntry):
    """End-to-end encryption was switched off or bypassed for a scope: always public."""

    TYPE = "E2EEOverride"
    override_id: str
    scope: str
    reason_code: str
    authorized_by: str
    expires_at: int


@register
@dataclass(frozen=True, kw_only=True)
class JudgeKeyRegistered(LogEntry):
    TYPE = "JudgeKeyRegistered"
    judge_key_id: str
    court: str
    public_key: PublicKey
    valid_from: int
    valid_until: int
