"""Raw-encoding ristretto255 operations agree with the Scalar/Point layer and refuse bad input."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.hazmat import ristretto_bytes as rb
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import (
    GROUP_ORDER,
    Point,
    Scalar,
    base_mul,
    hash_to_scalar,
    random_scalar,
)

pytestmark = pytest.mark.unit

labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20)
fields = st.lists(st.binary(max_size=80), max_size=4)


@settings(max_examples=60, deadline=None)
@given(label=labels, parts=fields)
def test_hash_to_scalar_is_sha512_of_the_length_prefixed_fields_mod_l(
    label: str, parts: list[bytes]
) -> None:
    """Checked against an independent computation (hashlib and Python integers, no libsodium)."""
    data = label.encode("ascii") + b"".join(len(p).to_bytes(4, "big") + p for p in parts)
    value = int.from_bytes(hashlib.sha512(data).digest(), "little") % GROUP_ORDER
    expected = value.to_bytes(32, "little")
    assert rb.hash_to_scalar(label, *parts) == expected
    assert hash_to_scalar(label, *parts).to_bytes() == expected


def test_field_boundaries_matter() -> None:
    assert rb.hash_to_scalar("x", b"ab", b"c") != rb.hash_to_scalar("x", b"a", b"bc")


@settings(max_examples=20, deadline=None)
@given(seed=st.binary(min_size=64, max_size=64))
def test_multiplications_match_the_object_layer(seed: bytes) -> None:
    a, b, c = random_scalar(), random_scalar(), random_scalar()
    point = base_mul(random_scalar())
    assert rb.base_mul(a.to_bytes()) == base_mul(a).to_bytes()
    assert rb.mul(a.to_bytes(), point.to_bytes()) == point.mul(a).to_bytes()
    assert rb.mul_add(a.to_bytes(), b.to_bytes(), c.to_bytes()) == (a * b + c).to_bytes()
    del seed


def test_zero_scalar() -> None:
    zero = Scalar.from_int(0).to_bytes()
    assert rb.is_zero(zero)
    assert not rb.is_zero(Scalar.from_int(1).to_bytes())
    assert rb.base_mul(zero) == Point.identity().to_bytes()


def test_mul_refuses_invalid_points_and_identity_products() -> None:
    scalar = random_scalar().to_bytes()
    with pytest.raises(CryptoError):
        rb.mul(scalar, b"\xff" * 32)  # not a canonical encoding
    with pytest.raises(CryptoError):
        rb.mul(scalar, Point.identity().to_bytes())
    with pytest.raises(CryptoError):
        rb.mul(scalar, b"\x01" * 31)
    with pytest.raises(CryptoError):
        rb.base_mul(b"\x01" * 31)
