"""Recipient-side checks: commitment, binding, prev chain, and what the client shows."""

from __future__ import annotations

import dataclasses
import os

import pytest

from fulcrum.franking import (
    GENESIS_PREV,
    FrankingMeta,
    ReceiveFailure,
    commit,
    new_franking_key,
    verify_received,
)
from fulcrum.franking.receive import GAP_NOTICE, NOT_VERIFIED_NOTICE

from .world import World

pytestmark = pytest.mark.unit


def _check(b, expected_prev=GENESIS_PREV, **kw):  # type: ignore[no-untyped-def]
    return verify_received(b.body, b.meta, b.k_f, b.c, b.env, expected_prev, **kw)


def test_honest_message_is_displayed_and_advances_chain() -> None:
    w = World()
    b = w.send("alice", b"hi bob")
    v = _check(b)
    assert v.displayable
    assert not v.gap
    assert v.notice is None
    assert v.next_prev == b.c
    b2 = w.send("alice", b"second")
    assert _check(b2, v.next_prev).displayable
    assert not _check(b2, v.next_prev).gap


def test_commitment_is_32_bytes_and_key_dependent() -> None:
    w = World()
    b = w.send("alice", b"x")
    assert len(b.c) == 32
    assert commit(b.k_f, b.meta, b.body) == b.c
    assert commit(new_franking_key(), b.meta, b.body) != b.c


@pytest.mark.parametrize("bit", [0, 7, 8, 100, 255])
def test_bit_flipped_plaintext_is_not_displayed(bit: int) -> None:
    w = World()
    b = w.send("alice", b"meet me at the station at 9pm!!!")
    body = bytearray(b.body)
    body[bit // 8] ^= 1 << (bit % 8)
    v = verify_received(bytes(body), b.meta, b.k_f, b.c, b.env, GENESIS_PREV)
    assert v.failure is ReceiveFailure.BAD_COMMITMENT
    assert not v.displayable
    assert v.notice == NOT_VERIFIED_NOTICE


def test_random_franking_key_fails() -> None:
    w = World()
    b = w.send("alice", b"hello")
    v = verify_received(b.body, b.meta, os.urandom(32), b.c, b.env, GENESIS_PREV)
    assert v.failure is ReceiveFailure.BAD_COMMITMENT


def test_sender_with_non_matching_commitment_is_hidden_and_chain_not_advanced() -> None:
    """A malicious sender puts a commitment in the envelope that its payload does not open."""
    w = World()
    b = w.send("alice", b"abusive content")
    bogus = os.urandom(32)
    v = verify_received(b.body, b.meta, b.k_f, bogus, b.env, GENESIS_PREV)
    assert not v.displayable
    assert v.failure is ReceiveFailure.BAD_COMMITMENT
    assert v.next_prev == GENESIS_PREV


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sender", "mallory"),
        ("sender_device", "devX"),
        ("conv", "dm:alice:carol"),
        ("msg_id", b"\x01" * 16),
    ],
)
def test_meta_that_disagrees_with_envelope_is_hidden(field: str, value: object) -> None:
    """The sender commits honestly to a *lying* meta (e.g. impersonating someone)."""
    w = World()
    b = w.send("alice", b"hello")
    meta = dataclasses.replace(b.meta, **{field: value})  # type: ignore[arg-type]
    c = commit(b.k_f, meta, b.body)
    v = verify_received(b.body, meta, b.k_f, c, b.env, GENESIS_PREV)
    assert v.failure is ReceiveFailure.META_ENV_MISMATCH


def test_tampered_meta_breaks_commitment() -> None:
    w = World()
    b = w.send("alice", b"hello")
    for change in ({"client_ts": 1}, {"content_type": "image/png"}, {"forward_count": 5}):
        meta = dataclasses.replace(b.meta, **change)  # type: ignore[arg-type]
        v = verify_received(b.body, meta, b.k_f, b.c, b.env, GENESIS_PREV)
        assert v.failure is ReceiveFailure.BAD_COMMITMENT


def test_ciphertext_hash_checked_when_given() -> None:
    w = World()
    b = w.send("alice", b"hello")
    good = b"ciphertext:" + b.meta.msg_id
    assert _check(b, body_ciphertext=good).displayable
    assert _check(b, body_ciphertext=good + b"x").failure is ReceiveFailure.META_ENV_MISMATCH


def test_gap_is_flagged_not_dropped() -> None:
    w = World()
    first = w.send("alice", b"1")
    w.send("alice", b"2 (lost in transit)")
    third = w.send("alice", b"3")
    v = _check(third, first.c)
    assert v.displayable
    assert v.gap
    assert v.notice == GAP_NOTICE
    assert v.next_prev == third.c


def test_meta_rejects_malformed_fields() -> None:
    w = World()
    b = w.send("alice", b"x")
    with pytest.raises(ValueError):
        dataclasses.replace(b.meta, msg_id=b"short")
    with pytest.raises(ValueError):
        dataclasses.replace(b.meta, prev=b"\x00" * 31)
    with pytest.raises(ValueError):
        dataclasses.replace(b.meta, sender="bad\nname")
    with pytest.raises(ValueError):
        FrankingMeta("a", "d", "c", b"\x00" * 16, -1, "text/plain")


def test_forward_count_travels_in_meta() -> None:
    w = World()
    b = w.send("alice", b"fwd", forward_count=5)
    assert b.meta.forwarded
    assert b.meta.to_json()["forward_count"] == 5
    assert _check(b).displayable


def test_reprs_never_show_secrets() -> None:
    w = World()
    b = w.send("alice", b"very secret words")
    for text in (repr(b), repr(w.keyring), repr(w.keyring.keys[0])):
        assert "very secret" not in text
        assert b.k_f.hex() not in text
        assert w.keyring.keys[0].secret.hex() not in text
