"""Entry-level audit rules and the counts a transparency report must match.

All functions take entries in log order as ``(leaf index, entry)`` pairs or plain entries and are
pure; a monitor runs them over its mirror.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from fulcrum.translog.entries import LogEntry, registered_types
from fulcrum.translog.entry_types import (
    AccessCompleted,
    BankManifest,
    TransparencyReport,
    TrusteeApproval,
    WarrantRegistered,
)
from fulcrum.translog.findings import Finding, FindingKind

#: Integer fields whose sums are reported as "<Type>.<field>" next to per-type counts.
SUMMED_FIELDS: dict[str, tuple[str, ...]] = {
    "AccessCompleted": ("messages_decrypted",),
    "DecryptionRequested": ("field_count",),
    "EvidenceExported": ("item_count",),
    "PartialsIssued": ("partial_count",),
}

#: Optional check that a bank manifest's source signatures are valid (keys live elsewhere).
ManifestCheck = Callable[[BankManifest], bool]


def count_by_type(
    entries: Iterable[LogEntry], start: int | None = None, end: int | None = None
) -> dict[str, int]:
    """Number of entries of each type with ``start <= time < end`` (bounds optional)."""
    counter: Counter[str] = Counter()
    for e in entries:
        if (start is None or e.time >= start) and (end is None or e.time < end):
            counter[e.TYPE] += 1
    return dict(counter)


def report_counts(entries: Iterable[LogEntry], start: int, end: int) -> dict[str, int]:
    """Every number a transparency report for [start, end) can be checked against.

    Keys are entry type names (how many entries) and ``"<Type>.<field>"`` sums of
    ``SUMMED_FIELDS``.
    """
    out: Counter[str] = Counter()
    for e in entries:
        if not start <= e.time < end:
            continue
        out[e.TYPE] += 1
        for name in SUMMED_FIELDS.get(e.TYPE, ()):
            out[f"{e.TYPE}.{name}"] += getattr(e, name)
    return dict(out)


@dataclass
class _WarrantTrack:
    registered: WarrantRegistered
    approvers: set[str] = field(default_factory=set)
    messages: int = 0


def check_entries(
    entries: Sequence[tuple[int, LogEntry]], manifest_check: ManifestCheck | None = None
) -> list[Finding]:
    """Policy findings over the whole log, in order.

    * AccessCompleted needs an earlier WarrantRegistered, at least ``approvals_required`` distinct
      earlier TrusteeApproval entries with ``approved=True`` for that warrant (denials are logged
      too but never count) (and only approving trustees listed), no
      access after ``expires_at``, and the warrant's total ``messages_decrypted`` within quota.
    * BankManifest needs one signature per source (and ``manifest_check`` to pass, if given).
    * TransparencyReport counts named like ``report_counts`` keys must equal the recomputed value
      over the entries logged before the report.
    """
    findings: list[Finding] = []
    warrants: dict[str, _WarrantTrack] = {}
    seen: list[LogEntry] = []
    for index, e in entries:
        if isinstance(e, WarrantRegistered):
            warrants.setdefault(e.warrant_id, _WarrantTrack(e))
        elif isinstance(e, TrusteeApproval) and e.approved and e.warrant_id in warrants:
            warrants[e.warrant_id].approvers.add(e.trustee_id)
        elif isinstance(e, AccessCompleted):
            findings.extend(_check_access(index, e, warrants.get(e.warrant_id)))
        elif isinstance(e, BankManifest):
            findings.extend(_check_manifest(index, e, manifest_check))
        elif isinstance(e, TransparencyReport):
            findings.extend(_check_report(index, e, seen))
        seen.append(e)
    return findings


def _check_access(index: int, e: AccessCompleted, track: _WarrantTrack | None) -> list[Finding]:
    def finding(kind: FindingKind, detail: str) -> Finding:
        return Finding(kind, f"warrant {e.warrant_id}: {detail}", entry=index)

    if track is None:
        return [finding(FindingKind.ACCESS_WITHOUT_WARRANT, "access with no registered warrant")]
    out = []
    w = track.registered
    used = set(e.trustees)
    if len(track.approvers) < w.approvals_required or len(used) < w.approvals_required:
        out.append(
            finding(
                FindingKind.ACCESS_WITHOUT_QUORUM,
                f"{len(track.approvers)} approvals, {len(used)} trustees used, "
                f"{w.approvals_required} required",
            )
        )
    elif not used <= track.approvers:
        out.append(
            finding(FindingKind.ACCESS_WITHOUT_QUORUM, "partials used from non-approving trustees")
        )
    if e.time > w.expires_at:
        out.append(finding(FindingKind.ACCESS_AFTER_EXPIRY, "access after the warrant expired"))
    track.messages += e.messages_decrypted
    if track.messages > w.max_messages:
        out.append(
            finding(
                FindingKind.QUOTA_EXCEEDED,
                f"{track.messages} messages read, quota {w.max_messages}",
            )
        )
    return out


def _check_manifest(
    index: int, e: BankManifest, manifest_check: ManifestCheck | None
) -> list[Finding]:
    if not e.sources or len(e.source_signatures) != len(e.sources):
        why = "manifest is not signed by each of its sources"
    elif manifest_check is not None and not manifest_check(e):
        why = "a source signature on the manifest does not verify"
    else:
        return []
    return [Finding(FindingKind.MANIFEST_NOT_COSIGNED, f"bank {e.bank_id}: {why}", entry=index)]


def _check_report(index: int, e: TransparencyReport, before: list[LogEntry]) -> list[Finding]:
    actual = report_counts(before, e.period_start, e.period_end)
    out = []
    for name, claimed in e.counts:
        if name not in checkable_report_keys():
            continue  # a free-form number the log cannot check
        if actual.get(name, 0) != claimed:
            out.append(
                Finding(
                    FindingKind.REPORT_MISMATCH,
                    f"report says {name} = {claimed}, log says {actual.get(name, 0)}",
                    entry=index,
                )
            )
    return out


def checkable_report_keys() -> set[str]:
    """Report count names the log can recompute (see ``report_counts``)."""
    summed = {f"{t}.{f}" for t, names in SUMMED_FIELDS.items() for f in names}
    return set(registered_types()) | summed
