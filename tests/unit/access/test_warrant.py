"""Warrants: canonical bytes, judge signatures against logged keys, commitments, strict parsing."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.access import (
    JudgeSignatureError,
    SignedWarrant,
    Warrant,
    WarrantFormatError,
    WarrantOpening,
    judge_keys_from_log,
    parse_warrant_id,
    sign_warrant,
    verify_opening,
    verify_warrant,
)
from fulcrum.hazmat.signing import SigningKey
from fulcrum.translog import parse_entry

from .support import DAY, JUDGE, JUDGE_KEY, T0, make_warrant, opening_for

pytestmark = pytest.mark.unit

KEYS = judge_keys_from_log([JUDGE_KEY.to_log_entry(T0 - DAY)])


def test_sign_and_verify_round_trip() -> None:
    w = make_warrant(targets=["bob", "alice"])
    assert w.targets == ("alice", "bob")
    assert w.notify_after == w.window_end + 90 * DAY
    signed = sign_warrant(w, JUDGE)
    assert verify_warrant(SignedWarrant.from_bytes(signed.to_bytes()), KEYS) == w
    assert Warrant.from_bytes(w.to_bytes()) == w
    assert parse_warrant_id(w.warrant_id) == ("XA", "police-a", "2026-0001")


def test_forged_judge_signature_refused() -> None:
    w = make_warrant()
    forged = sign_warrant(w, SigningKey(bytes(32)))
    with pytest.raises(JudgeSignatureError, match="does not verify"):
        verify_warrant(forged, KEYS)
    # A signature for one warrant does not carry over to an edited one.
    signed = sign_warrant(w, JUDGE)
    edited = SignedWarrant(dataclasses.replace(w, max_messages=9999), signed.signature)
    with pytest.raises(JudgeSignatureError):
        verify_warrant(edited, KEYS)


def test_unregistered_or_expired_judge_key_refused() -> None:
    signed = sign_warrant(make_warrant(judge_key_id="judge-9"), JUDGE)
    with pytest.raises(JudgeSignatureError, match="not registered"):
        verify_warrant(signed, KEYS)
    late = sign_warrant(make_warrant(issued_at=T0 + 800 * DAY, window_start=T0 + 800 * DAY,
                                     window_end=T0 + 801 * DAY), JUDGE)  # fmt: skip
    with pytest.raises(JudgeSignatureError, match="not valid"):
        verify_warrant(late, KEYS)


def test_registration_is_a_commitment_without_targets() -> None:
    w = make_warrant(targets=["alice-account-7781"])
    opening = opening_for(w)
    entry = opening.registration_entry(time=T0, approvals_required=3)
    raw = entry.encode()
    assert b"alice" not in raw
    assert parse_entry(raw) == entry
    assert verify_opening(opening, entry, opening.unsealed_entry(time=T0 + 200 * DAY))
    other = WarrantOpening.create(opening.signed, salt=bytes(32))
    assert not verify_opening(other, entry)
    # The salt is never shown.
    assert "salt" not in repr(opening)
    with pytest.raises(WarrantFormatError):
        WarrantOpening.create(opening.signed, salt=bytes(15))
    assert WarrantOpening.from_bytes(opening.to_bytes()) == opening


@pytest.mark.parametrize(
    "changes",
    [
        {"targets": []},
        {"window_end": T0},
        {"warrant_id": "two\nlines"},
        {"agency": "police b"},
        {"notify_after": T0 + 20 * DAY + 366 * DAY},
        {"special_categories": ["astrologer"]},
        {"max_messages": 0},
    ],
)
def test_invalid_warrants_rejected(changes: dict[str, object]) -> None:
    with pytest.raises(WarrantFormatError):
        make_warrant(**changes)


def test_non_canonical_bytes_rejected() -> None:
    signed = sign_warrant(make_warrant(), JUDGE)
    raw = signed.to_bytes()
    with pytest.raises(WarrantFormatError):
        SignedWarrant.from_bytes(raw.replace(b'{"signature"', b'{ "signature"'))
    with pytest.raises(WarrantFormatError):
        Warrant.from_bytes(make_warrant().to_bytes().replace(b"1000", b"1000.0"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_parsing_random_bytes_only_raises_format_error(data: bytes) -> None:
    for parse in (Warrant.from_bytes, SignedWarrant.from_bytes, WarrantOpening.from_bytes):
        with contextlib.suppress(WarrantFormatError):
            parse(data)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(make_warrant().to_json())), _json)
def test_mutated_warrant_fields_parse_strictly(key: str, value: object) -> None:
    import json

    obj = make_warrant().to_json()
    obj[key] = value
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    try:
        w = Warrant.from_bytes(data)
    except WarrantFormatError:
        return
    assert w.to_bytes() == data  # whatever parses is canonical and round-trips
