"""The bundle and report parsers accept only canonical encodings; fuzzed with hypothesis."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fulcrum.franking import (
    AbuseReport,
    FrankingBundle,
    FrankingFormatError,
    GroupAudience,
    keep_until,
    prune_bundles,
    within_keep_window,
)

from .world import World, conversation, report

pytestmark = pytest.mark.unit

_W = World()
_DM = _W.send("alice", b"hello \x00 bytes \xff", reply_to=b"\x07" * 16, forward_count=2)
_GROUP = _W.send("alice", b"g", conv="group:g", group=GroupAudience.of("g", 3, ["alice", "bob"]))
SAMPLES = [_DM.encode(), _GROUP.encode()]


def test_roundtrip() -> None:
    for b in (_DM, _GROUP):
        assert FrankingBundle.parse(b.encode()) == b


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(extra=1),
        lambda d: d.pop("tag"),
        lambda d: d.update(v=2),
        lambda d: d.update(kid="2026-13"),
        lambda d: d.update(tag=d["tag"][:-2]),
        lambda d: d["meta"].update(forwarded=False),
        lambda d: d["meta"].update(reply_to=None),
        lambda d: d["meta"].update(client_ts=1.5),
        lambda d: d["meta"].update(client_ts=2**60),
        lambda d: d["meta"].update(forward_count=True),
        lambda d: d["env"].update(recipients=["bob", "alice"]),
        lambda d: d["env"].update(
            group={"group_id": "g", "membership_epoch": 1, "members_hash": ""}
        ),
        lambda d: d["meta"]["attachments"].append({"sha256_plain": "", "size": 1}),
    ],
)
def test_invalid_fields_rejected(mutate) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(SAMPLES[0])
    mutate(data)
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    with pytest.raises(FrankingFormatError):
        FrankingBundle.parse(raw)


def test_non_canonical_encodings_rejected() -> None:
    data = json.loads(SAMPLES[0])
    for raw in (
        json.dumps(data, sort_keys=True).encode(),  # whitespace
        SAMPLES[0].replace(b'{"body"', b'{"v":1,"body"', 1),  # duplicate key
        json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        .replace('"v":1', '"v":1.0')
        .encode(),
        SAMPLES[0] + b"\n",
        SAMPLES[0].replace(b'"kid"', b'"kid"', 1).replace(b"{", b"{ ", 1),
    ):
        with pytest.raises(FrankingFormatError):
            FrankingBundle.parse(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(FrankingFormatError):
        FrankingBundle.parse(data)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_mutated_bundles_parse_only_if_canonical(sample: bytes, edits) -> None:  # type: ignore[no-untyped-def]
    buf = bytearray(sample)
    for pos, val in edits:
        buf[pos % len(buf)] = val
    try:
        parsed = FrankingBundle.parse(bytes(buf))
    except FrankingFormatError:
        return
    assert parsed.encode() == bytes(buf)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=4),
        max_leaves=12,
    )
)
def test_arbitrary_json_never_crashes(value) -> None:  # type: ignore[no-untyped-def]
    raw = json.dumps(value).encode()
    for parse in (FrankingBundle.parse, AbuseReport.parse):
        with contextlib.suppress(FrankingFormatError):
            parse(raw)


def test_report_parser_rejects_non_canonical() -> None:
    w = World()
    msgs = conversation(w, 2)
    r = report("bob", msgs, [msgs[0]])
    raw = r.encode()
    assert AbuseReport.parse(raw) == r
    with pytest.raises(FrankingFormatError):
        AbuseReport.parse(raw.replace(b'"harassment"', b'"bullying"'))
    with pytest.raises(FrankingFormatError):
        AbuseReport.parse(raw + b" ")


def test_keep_window() -> None:
    w = World()
    b = w.send("alice", b"x")
    end = keep_until(b)
    assert within_keep_window(b, end - timedelta(seconds=1))
    assert not within_keep_window(b, end)
    assert prune_bundles([b], end) == ()
    assert keep_until(b, timedelta(days=7)) < end
