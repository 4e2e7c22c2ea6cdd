"""Escrow field: round trip, recipient verification, trustee proof, strict parsing, forgeries."""

from __future__ import annotations

import dataclasses
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.escrow import (
    FIELD_BYTES,
    EscrowContext,
    EscrowField,
    EscrowFieldError,
    create_escrow_field,
    escrow_field_bytes,
    open_escrow_field,
    parse_escrow_field,
    verify_escrow_field,
    verify_escrow_proof,
)
from fulcrum.hazmat.ristretto import GROUP_ORDER, Point, Scalar, base_mul, random_scalar

from .support import sample_context

pytestmark = pytest.mark.unit

X = random_scalar()
Y = base_mul(X)
K_M = bytes(range(32))
CTX = sample_context()
FIELD = create_escrow_field(K_M, CTX, Y)
FIELD_RAW = FIELD.to_bytes()


def test_round_trip_and_size() -> None:
    assert len(FIELD_RAW) == FIELD_BYTES == 144
    assert parse_escrow_field(FIELD_RAW) == FIELD


def test_send_path_bytes_equal_the_parsed_field() -> None:
    assert escrow_field_bytes(K_M, CTX, Y) == FIELD_RAW
    other = escrow_field_bytes(os.urandom(32), CTX, Y)
    assert other != FIELD_RAW and verify_escrow_field(other, K_M, CTX, Y) is False


@pytest.mark.parametrize(
    "bad",
    [FIELD_RAW[:-1], FIELD_RAW + b"\x00", b"", "not bytes", None, bytes(FIELD_BYTES)],
)
def test_recipient_rejects_wrong_type_length_or_zeros(bad: object) -> None:
    assert verify_escrow_field(bad, K_M, CTX, Y) is False  # type: ignore[arg-type]


def test_recipient_accepts_bytearray_of_the_right_field() -> None:
    assert verify_escrow_field(bytearray(FIELD_RAW), K_M, CTX, Y) is True  # type: ignore[arg-type]
    assert EscrowField.from_bytes(FIELD_RAW).to_bytes() == FIELD_RAW
    assert verify_escrow_field(FIELD_RAW, K_M, CTX, Y)
    assert verify_escrow_proof(FIELD_RAW, CTX, Y)
    assert verify_escrow_proof(FIELD, CTX, Y)
    # the holder of the epoch secret recovers K_m from S = x·R
    assert open_escrow_field(FIELD, FIELD.R.mul(X), CTX) == K_M


def test_deterministic_in_key_context_and_epoch_key() -> None:
    assert create_escrow_field(K_M, CTX, Y).to_bytes() == FIELD_RAW
    assert create_escrow_field(os.urandom(32), CTX, Y).to_bytes() != FIELD_RAW


def test_wrong_shared_point_does_not_open() -> None:
    with pytest.raises(EscrowFieldError):
        open_escrow_field(FIELD, FIELD.R.mul(random_scalar()), CTX)


def test_field_for_another_content_key_rejected() -> None:
    assert not verify_escrow_field(FIELD_RAW, bytes(32), CTX, Y)
    other = create_escrow_field(bytes(32), CTX, Y).to_bytes()
    assert not verify_escrow_field(other, K_M, CTX, Y)


def test_field_for_another_epoch_key_rejected() -> None:
    other_key = base_mul(random_scalar())
    forged = create_escrow_field(K_M, CTX, other_key).to_bytes()  # e.g. a platform-chosen key
    assert not verify_escrow_field(forged, K_M, CTX, Y)
    assert not verify_escrow_field(FIELD_RAW, K_M, CTX, other_key)
    assert not verify_escrow_proof(FIELD_RAW, CTX, other_key)


CHANGES = [
    {"epoch": 8},
    {"conv": "dm:alice:mallory"},
    {"msg_id": "AAECAwQFBgcICQoLDA0OEA"},
    {"sender": "mallory"},
    {"sender_device": "alice-laptop"},
    {"recipient_devices": [("bob", "bob-laptop"), ("alice", "alice-tablet")]},
    {"recipient_devices": [("bob", "bob-laptop"), ("alice", "alice-tablet"), ("eve", "e1")]},
    {"client_ts": 1_767_225_600_001},
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: next(iter(c)))
def test_any_context_change_rejected(change: dict[str, object]) -> None:
    other = sample_context(**change)
    assert other.to_bytes() != CTX.to_bytes()
    assert not verify_escrow_field(FIELD_RAW, K_M, other, Y)
    # R re-used under a different context fails the trustees' proof check
    assert not verify_escrow_proof(FIELD_RAW, other, Y)


def test_r_lifted_into_a_new_field_for_another_context_fails_proof() -> None:
    """A platform takes R from an out-of-scope message and builds a field under an in-scope ctx."""
    in_scope = sample_context(sender="target", sender_device="target-phone")
    lifted = dataclasses.replace(FIELD, W=os.urandom(48))
    assert not verify_escrow_proof(lifted, in_scope, Y)
    # even with a fresh proof attempt it cannot produce (ch, s) without r
    guess = dataclasses.replace(FIELD, ch=random_scalar(), s=random_scalar())
    assert not verify_escrow_proof(guess, CTX, Y)


def test_recipient_order_does_not_matter_but_set_does() -> None:
    shuffled = sample_context(
        recipient_devices=[("bob", "bob-phone"), ("bob", "bob-laptop"), ("alice", "alice-tablet")]
    )
    assert shuffled.to_bytes() == CTX.to_bytes()
    assert verify_escrow_field(FIELD_RAW, K_M, shuffled, Y)


@pytest.mark.parametrize("n", [0, 1, 32, 80, 112, 143, 145, 288])
def test_stripped_or_truncated_field_rejected(n: int) -> None:
    data = (FIELD_RAW * 2)[:n]
    assert not verify_escrow_field(data, K_M, CTX, Y)
    assert not verify_escrow_proof(data, CTX, Y)
    with pytest.raises(EscrowFieldError):
        parse_escrow_field(data)


def test_every_single_bit_flip_rejected() -> None:
    for i in range(FIELD_BYTES * 8):
        flipped = bytearray(FIELD_RAW)
        flipped[i // 8] ^= 1 << (i % 8)
        assert not verify_escrow_field(bytes(flipped), K_M, CTX, Y), i


def test_identity_and_non_canonical_points_rejected() -> None:
    identity = bytes(32) + FIELD_RAW[32:]
    non_canonical = bytes.fromhex("ed" + "ff" * 30 + "7f") + FIELD_RAW[32:]
    for data in (identity, non_canonical):
        with pytest.raises(EscrowFieldError):
            parse_escrow_field(data)
        assert not verify_escrow_field(data, K_M, CTX, Y)
        assert not verify_escrow_proof(data, CTX, Y)
    with pytest.raises(EscrowFieldError):
        EscrowField(R=Point.identity(), W=bytes(48), ch=Scalar.from_int(1), s=Scalar.from_int(1))


def test_non_canonical_scalars_rejected() -> None:
    big = GROUP_ORDER.to_bytes(32, "little")
    for data in (FIELD_RAW[:80] + big + FIELD_RAW[112:], FIELD_RAW[:112] + big):
        with pytest.raises(EscrowFieldError):
            parse_escrow_field(data)
    # ch + L is the same scalar mod L but a different (non-canonical) encoding
    ch_plus_l = (FIELD.ch.to_int() + GROUP_ORDER).to_bytes(32, "little")
    assert not verify_escrow_field(FIELD_RAW[:80] + ch_plus_l + FIELD_RAW[112:], K_M, CTX, Y)


def test_identity_epoch_key_refused() -> None:
    with pytest.raises(EscrowFieldError):
        create_escrow_field(K_M, CTX, Point.identity())
    assert not verify_escrow_proof(FIELD_RAW, CTX, Point.identity())


@pytest.mark.parametrize("k_m", [b"", bytes(16), bytes(33)])
def test_content_key_must_be_32_bytes(k_m: bytes) -> None:
    with pytest.raises(EscrowFieldError):
        create_escrow_field(k_m, CTX, Y)
    assert not verify_escrow_field(FIELD_RAW, k_m, CTX, Y)


def test_100k_random_fields_all_rejected_by_recipient() -> None:
    rng = random.Random(20260101)
    parsed = 0
    for _ in range(100_000):
        data = rng.randbytes(FIELD_BYTES)
        try:
            parse_escrow_field(data)
            parsed += 1
        except EscrowFieldError:
            pass
        assert not verify_escrow_field(data, K_M, CTX, Y)
    # about 1 in 2,000 random fields parse (R valid ~1/8, ch and s canonical ~1/16 each), so the
    # full recompute-and-compare path ran tens of times, not just the parser
    assert parsed >= 10


def test_well_formed_random_fields_rejected_by_full_verify() -> None:
    """Fields that pass every parse check (real points, canonical scalars) still never verify."""
    for _ in range(300):
        data = (
            base_mul(random_scalar()).to_bytes()
            + os.urandom(48)
            + random_scalar().to_bytes()
            + random_scalar().to_bytes()
        )
        parse_escrow_field(data)
        assert not verify_escrow_field(data, K_M, CTX, Y)
        assert not verify_escrow_proof(data, CTX, Y)
    # a field with the right R and W but a forged proof part
    assert not verify_escrow_field(FIELD_RAW[:80] + random_scalar().to_bytes() * 2, K_M, CTX, Y)


@settings(max_examples=300)
@given(st.binary(min_size=0, max_size=200))
def test_fuzz_parser(data: bytes) -> None:
    try:
        field = parse_escrow_field(data)
    except EscrowFieldError:
        return
    assert field.to_bytes() == data


@settings(max_examples=200)
@given(st.binary(min_size=FIELD_BYTES, max_size=FIELD_BYTES))
def test_fuzz_fixed_length_fields_never_verify(data: bytes) -> None:
    assert not verify_escrow_field(data, K_M, CTX, Y)


def test_context_is_public_and_key_material_not_in_repr() -> None:
    assert K_M.hex() not in repr(FIELD)
    assert isinstance(CTX, EscrowContext)
