"""Typed log entries: round trips, canonical form and strict parsing."""

from __future__ import annotations

import dataclasses
import json

import pytest

from fulcrum.encoding import canonical_json
from fulcrum.translog import (
    AbuseReportStats,
    LogEntry,
    LogEntryError,
    TrusteeApproval,
    WarrantRegistered,
    commit_target,
    counts,
    encode_entry,
    parse_entry,
    registered_types,
)

from .entry_samples import D, T, sample, samples, warrant

pytestmark = pytest.mark.unit

EXPECTED_TYPES = {
    "EpochKey", "WarrantRegistered", "TrusteeApproval", "DecryptionRequested", "PartialsIssued",
    "AccessCompleted", "EvidenceExported", "NotificationDelayed", "WarrantUnsealed",
    "ShareDestroyed", "FrankingKeyRotated", "FrankingKeyDestroyed", "BankManifest",
    "AbuseReportStats", "ClearinghouseReportFiled", "TransparencyReport", "SafetyRuleStats",
    "ReadinessRecord", "E2EEOverride", "JudgeKeyRegistered",
}  # fmt: skip


JUNK: dict[type, list[object]] = {
    int: [None, 1.5, "1", True, -1, 2**60, []],
    str: [None, 1, "", "a\nb", [], "é" * 300],
    bool: [None, 1, "true"],
    list: [None, "a", [1], [""], {}],
    dict: [None, [], {"a": -1}, {"a": "1"}, {"a": True}, {"": 1}],
}


def test_registry_is_complete() -> None:
    assert set(registered_types()) == EXPECTED_TYPES
    assert {type(e).TYPE for e in samples()} == EXPECTED_TYPES


@pytest.mark.parametrize("entry", samples(), ids=lambda e: e.TYPE)
def test_round_trip(entry: LogEntry) -> None:
    data = encode_entry(entry)
    assert parse_entry(data) == entry
    obj = json.loads(data)
    assert obj["type"] == entry.TYPE
    assert obj["v"] == 1
    assert obj["time"] == entry.time
    assert canonical_json(obj) == data
    assert type(entry).from_dict(obj) == entry


@pytest.mark.parametrize("entry", samples(), ids=lambda e: e.TYPE)
def test_missing_extra_and_wrong_typed_fields(entry: LogEntry) -> None:
    obj = entry.to_dict()
    for name in [k for k in obj if k not in ("type", "v")]:
        missing = {k: v for k, v in obj.items() if k != name}
        with pytest.raises(LogEntryError):
            parse_entry(canonical_json(missing))
        for junk in JUNK[type(obj[name])]:
            with pytest.raises(LogEntryError):
                LogEntry.from_dict(dict(obj, **{name: junk}))
    with pytest.raises(LogEntryError):
        parse_entry(canonical_json({**obj, "extra": 1}))


def test_unknown_type_version_and_wrong_class() -> None:
    obj = sample(WarrantRegistered).to_dict()
    for bad in ({"type": "Nope"}, {"type": 3}, {"v": 2}, {"v": "1"}, {"v": True}):
        with pytest.raises(LogEntryError):
            parse_entry(canonical_json({**obj, **bad}))
    with pytest.raises(LogEntryError):
        TrusteeApproval.from_dict(obj)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b"null",
        b"\xff\xfe",
        b'{"a":1,"a":2}',
        b'{"time":1.0}',
        b'{"time":NaN}',
        b"[" * 100_000,
        b"{" * 5000,
        b'{"time":' + b"9" * 5000 + b"}",
        b"x" * (70 * 1024),
    ],
)
def test_junk_bytes(data: bytes) -> None:
    with pytest.raises(LogEntryError):
        parse_entry(data)


def test_non_canonical_bytes_rejected() -> None:
    entry = sample(TrusteeApproval)
    data = encode_entry(entry)
    pretty = json.dumps(json.loads(data), indent=1).encode()
    with pytest.raises(LogEntryError, match="canonical"):
        parse_entry(pretty)
    with pytest.raises(LogEntryError):
        parse_entry(data + b" ")
    padded = data.replace(b'"approval_digest":"AAEC', b'"approval_digest":"AAEC')
    assert parse_entry(padded) == entry


def test_bytes_fields_are_checked() -> None:
    with pytest.raises(LogEntryError):
        TrusteeApproval(
            time=T,
            warrant_id="w",
            trustee_id="t",
            approved=True,
            reasons=(),
            approval_digest=b"short",
        )
    obj = sample(TrusteeApproval).to_dict()
    for bad in ("AAEC+/", "AAECAw==", "AAEC"):
        with pytest.raises(LogEntryError):
            LogEntry.from_dict({**obj, "approval_digest": bad})
    with pytest.raises(LogEntryError):
        TrusteeApproval(
            time=T, warrant_id="w\n2", trustee_id="t", approved=True, reasons=(), approval_digest=D
        )
    with pytest.raises(LogEntryError):
        TrusteeApproval(
            time=-1, warrant_id="w", trustee_id="t", approved=True, reasons=(), approval_digest=D
        )


def test_counts_must_be_sorted_and_unique() -> None:
    base = sample(AbuseReportStats)
    with pytest.raises(LogEntryError):
        dataclasses.replace(base, counts=(("b", 1), ("a", 2)))
    with pytest.raises(LogEntryError):
        dataclasses.replace(base, counts=(("a", 1), ("a", 2)))
    with pytest.raises(LogEntryError):
        dataclasses.replace(base, counts=(("a", -1),))
    assert counts({"b": 1, "a": 2}) == (("a", 2), ("b", 1))


def test_warrant_never_holds_a_plaintext_target() -> None:
    target = b"@alice:fulcrum.test"
    w = warrant()
    data = encode_entry(w)
    assert target not in data
    assert b"alice" not in data
    assert {f.name for f in dataclasses.fields(WarrantRegistered)}.isdisjoint(
        {"target", "target_id", "user", "user_id", "account"}
    )
    with pytest.raises(LogEntryError):
        commit_target(target, b"s" * 15)  # < 128-bit salt
    assert commit_target(target, b"s" * 16) != commit_target(target, b"t" * 16)
    assert commit_target(target, b"s" * 16) == w.target_commitment
    with pytest.raises(LogEntryError):
        LogEntry.from_dict({**w.to_dict(), "target": "@alice:fulcrum.test"})
