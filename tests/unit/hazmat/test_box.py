"""X25519 sealed boxes: only the recipient opens, any change is the one CryptoError."""

from __future__ import annotations

import pytest

from fulcrum.hazmat.box import BoxSecretKey, box_open, box_seal
from fulcrum.hazmat.errors import CryptoError

pytestmark = pytest.mark.unit


def test_round_trip_and_refusals() -> None:
    alice, eve = BoxSecretKey.generate(), BoxSecretKey.generate()
    sealed = box_seal(alice.public_key(), b"share", aad=b"ad", info=b"test")
    assert b"share" not in sealed
    assert box_open(alice, sealed, aad=b"ad", info=b"test") == b"share"
    assert box_open(BoxSecretKey(alice.raw), sealed, aad=b"ad", info=b"test") == b"share"
    with pytest.raises(CryptoError):
        box_open(eve, sealed, aad=b"ad", info=b"test")
    with pytest.raises(CryptoError):
        box_open(alice, sealed, aad=b"other", info=b"test")
    with pytest.raises(CryptoError):
        box_open(alice, sealed, aad=b"ad", info=b"other")
    flipped = bytes([sealed[0]]) + sealed[1:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(CryptoError):
        box_open(alice, flipped, aad=b"ad", info=b"test")
    with pytest.raises(CryptoError):
        box_open(alice, sealed[:40], aad=b"ad", info=b"test")
    assert "secret" in repr(alice) and alice.raw.hex() not in repr(alice)


def test_low_order_recipient_is_refused() -> None:
    with pytest.raises(CryptoError):
        box_seal(bytes(32), b"x", aad=b"", info=b"test")
    with pytest.raises(CryptoError):
        BoxSecretKey(b"short")
