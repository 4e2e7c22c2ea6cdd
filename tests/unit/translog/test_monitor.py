"""The auditor core: tampering, rewritten history, split views, rollbacks, quorum, policy rules."""

from __future__ import annotations

import dataclasses

import pytest

from fulcrum.translog import (
    AccessCompleted,
    BankManifest,
    FindingKind,
    InMemoryTree,
    LogEntry,
    LogMonitor,
    TransparencyReport,
    TrusteeApproval,
    Witness,
    WitnessState,
    add_signatures,
    audit_log,
    count_by_type,
    counts,
    encode_entry,
    report_counts,
)

from .entry_samples import D, T, samples, warrant
from .support import checkpoint_note, log_signer, tree_of, witness_signer

pytestmark = pytest.mark.unit

LOG = log_signer().verifier()
WITNESSES = [witness_signer(n).verifier() for n in (1, 2, 3)]


def encoded(entries: list[LogEntry]) -> list[bytes]:
    return [encode_entry(e) for e in entries]


def kinds(findings: object) -> set[FindingKind]:
    return {f.kind for f in findings}  # type: ignore[attr-defined]


def cosigned(tree: InMemoryTree, size: int, who: tuple[int, ...] = (1, 2)) -> bytes:
    note = checkpoint_note(tree, size)
    sigs = [
        Witness(witness_signer(n), [LOG]).cosign(WitnessState(), note, [], T).signature for n in who
    ]
    return add_signatures(note, sigs)


def test_clean_log_passes() -> None:
    data = encoded(samples())
    tree = tree_of(data)
    report = audit_log(
        LOG, [cosigned(tree, 5), cosigned(tree, len(data))], data, WITNESSES, min_witnesses=2
    )
    assert report.ok, report.findings
    assert report.entries == len(data)
    assert report.checkpoints == 2
    assert report.latest is not None
    assert report.latest.size == len(data)
    assert report.counts["WarrantRegistered"] == 1
    assert sum(report.counts.values()) == len(data)


def test_tampered_entry_detected() -> None:
    data = encoded(samples())
    tree = tree_of(data)
    notes = [checkpoint_note(tree, len(data))]
    altered = list(data)
    altered[4] = altered[4].replace(b'"field_count":4', b'"field_count":1')
    assert altered[4] != data[4]
    report = audit_log(LOG, notes, altered)
    assert kinds(report.findings) == {FindingKind.ROOT_MISMATCH}
    assert not report.ok


def test_rewritten_history_detected_by_consistency() -> None:
    """The monitor mirrored 10 entries; the log then shows size 14 built on a different history."""
    original = [bytes([i]) for i in range(14)]
    rewritten = [b"forged", *original[1:]]
    honest, forged = tree_of(original), tree_of(rewritten)
    monitor = LogMonitor(LOG)
    monitor.add_entries(original[:10])
    assert monitor.observe(checkpoint_note(honest, 10)) == []
    found = monitor.observe(checkpoint_note(forged, 14), forged.consistency_proof(10, 14))
    assert FindingKind.INCONSISTENT in kinds(found)
    # Same size, different tree: the mirror catches it directly (and it is a split view).
    found = monitor.observe(checkpoint_note(forged, 10))
    assert {FindingKind.SPLIT_VIEW, FindingKind.ROOT_MISMATCH} <= kinds(found)
    # An honest extension beyond the mirror with a good proof is fine.
    assert kinds(
        monitor.observe(checkpoint_note(honest, 13), honest.consistency_proof(10, 13))
    ) == {FindingKind.INCOMPLETE_MIRROR}
    # The log signed two different roots for 14: a split view even without the entries.
    found = monitor.observe(checkpoint_note(honest, 14), honest.consistency_proof(13, 14))
    assert FindingKind.SPLIT_VIEW in kinds(found)


def test_split_view_and_rollback() -> None:
    a = tree_of([b"a", b"b", b"c", b"d"])
    b = tree_of([b"a", b"b", b"x", b"y"])
    monitor = LogMonitor(LOG)
    monitor.add_entries([b"a", b"b", b"c", b"d"])
    assert monitor.observe(checkpoint_note(a, 4)) == []
    assert FindingKind.SPLIT_VIEW in kinds(monitor.observe(checkpoint_note(b, 4)))
    assert kinds(monitor.observe(checkpoint_note(a, 3))) == {FindingKind.ROLLBACK}
    assert not monitor.report().ok


def test_bad_signatures_and_quorum() -> None:
    tree = tree_of([b"a", b"b"])
    monitor = LogMonitor(LOG, WITNESSES, min_witnesses=2)
    monitor.add_entries([b"a", b"b"])
    assert kinds(monitor.observe(cosigned(tree, 2, (1,)))) == {FindingKind.QUORUM_NOT_MET}
    forged = checkpoint_note(tree, 2, log_signer(seed=5))
    assert kinds(monitor.observe(forged)) == {FindingKind.BAD_CHECKPOINT}
    assert kinds(monitor.observe(b"garbage")) == {FindingKind.BAD_CHECKPOINT}
    assert monitor.observe(cosigned(tree, 2, (2, 3))) == []


def test_malformed_entry_reported() -> None:
    monitor = LogMonitor(LOG)
    found = monitor.add_entries([b'{"type":"Nope"}'])
    assert kinds(found) == {FindingKind.MALFORMED_ENTRY}
    assert found[0].entry == 0


def run_rules(entries: list[LogEntry]) -> set[FindingKind]:
    data = encoded(entries)
    return kinds(audit_log(LOG, [checkpoint_note(tree_of(data), len(data))], data).findings)


def access(
    time: int = T + 5, trustees: tuple[str, ...] = ("t1", "t2"), n: int = 4
) -> AccessCompleted:
    return AccessCompleted(
        time=time, warrant_id="w-1", request_id="r", trustees=trustees, messages_decrypted=n
    )


def approval(trustee: str) -> TrusteeApproval:
    return TrusteeApproval(
        time=T, warrant_id="w-1", trustee_id=trustee, approved=True, reasons=(), approval_digest=D
    )


def test_access_rules() -> None:
    w = warrant(required=2, quota=10)
    good = [w, approval("t1"), approval("t2"), access()]
    assert run_rules(good) == set()
    assert run_rules([w, approval("t1"), access()]) == {FindingKind.ACCESS_WITHOUT_QUORUM}
    assert run_rules([w, approval("t1"), approval("t1"), access()]) == {
        FindingKind.ACCESS_WITHOUT_QUORUM
    }
    assert run_rules([w, approval("t1"), approval("t3"), access()]) == {
        FindingKind.ACCESS_WITHOUT_QUORUM
    }
    assert run_rules([access(), w]) == {FindingKind.ACCESS_WITHOUT_WARRANT}
    assert run_rules([*good, access(n=7)]) == {FindingKind.QUOTA_EXCEEDED}
    late = access(time=w.expires_at + 1)
    assert run_rules([*good[:3], late]) == {FindingKind.ACCESS_AFTER_EXPIRY}


def test_manifest_rule() -> None:
    m = next(e for e in samples() if isinstance(e, BankManifest))
    assert run_rules([m]) == set()
    unsigned = dataclasses.replace(m, source_signatures=(m.source_signatures[0],))
    assert run_rules([unsigned]) == {FindingKind.MANIFEST_NOT_COSIGNED}
    data = encoded([m])
    monitor = LogMonitor(LOG, manifest_check=lambda manifest: False)
    monitor.add_entries(data)
    assert kinds(monitor.report().findings) == {FindingKind.MANIFEST_NOT_COSIGNED}


def test_transparency_report_numbers_are_recomputed() -> None:
    body: list[LogEntry] = [warrant(), approval("t1"), approval("t2"), access(n=3)]
    claims = {"WarrantRegistered": 1, "TrusteeApproval": 2, "AccessCompleted.messages_decrypted": 3}

    def report(c: dict[str, int]) -> TransparencyReport:
        return TransparencyReport(
            time=T + 100, period_start=T - 10, period_end=T + 100, report_digest=D,
            counts=counts({**c, "free-form": 5}),
        )  # fmt: skip

    assert run_rules([*body, report(claims)]) == set()
    assert run_rules([*body, report({**claims, "TrusteeApproval": 1})]) == {
        FindingKind.REPORT_MISMATCH
    }
    assert report_counts(body, T - 10, T + 100) == {
        "WarrantRegistered": 1,
        "TrusteeApproval": 2,
        "AccessCompleted": 1,
        "AccessCompleted.messages_decrypted": 3,
    }
    assert count_by_type(body, start=T + 1) == {"AccessCompleted": 1}
