"""ristretto255 operations on raw 32-byte encodings, for hot paths (the per-message escrow field).

Same arithmetic as ``fulcrum.hazmat.ristretto`` (and checked against it in the tests), without the
``Scalar``/``Point`` wrapper objects: a message's escrow field needs three scalar multiplications
and three hashes to scalars, and at that size the wrappers' construction and validation were a
sixth of the cost. Callers pass encodings they already hold as validated values (a ``Point``'s
``to_bytes()``) or scalars these functions produced; every function still checks lengths, and
``mul`` refuses an invalid point encoding.

Secret scalars only ever go through libsodium's constant-time code (no Python-int arithmetic).
"""

from __future__ import annotations

import rbcl

from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import GROUP_ORDER
from fulcrum.hazmat.ristretto import hash_to_scalar_bytes as hash_to_scalar

__all__ = ["base_mul", "hash_to_scalar", "is_canonical_scalar", "is_zero", "mul", "mul_add", "sub"]

SCALAR_BYTES = 32
POINT_BYTES = 32


def is_zero(scalar: bytes) -> bool:
    return scalar == bytes(SCALAR_BYTES)


def base_mul(scalar: bytes) -> bytes:
    """``scalar · G`` (zero gives the identity encoding)."""
    if len(scalar) != SCALAR_BYTES:
        raise CryptoError
    return bytes(rbcl.crypto_scalarmult_ristretto255_base_allow_scalar_zero(scalar))


def mul(scalar: bytes, point: bytes) -> bytes:
    """``scalar · P`` for a valid encoding ``P``; ``CryptoError`` if ``P`` does not decode."""
    if len(scalar) != SCALAR_BYTES or len(point) != POINT_BYTES:
        raise CryptoError
    try:
        return bytes(rbcl.crypto_scalarmult_ristretto255(scalar, point))
    except RuntimeError as exc:  # invalid point, or a product equal to the identity
        raise CryptoError from exc


def mul_add(a: bytes, b: bytes, c: bytes) -> bytes:
    """The scalar ``a·b + c`` mod L."""
    return bytes(
        rbcl.crypto_core_ristretto255_scalar_add(rbcl.crypto_core_ristretto255_scalar_mul(a, b), c)
    )


def sub(p: bytes, q: bytes) -> bytes:
    """``P - Q`` for encodings produced by ``base_mul``/``mul`` (valid by construction).

    libsodium does not report an invalid input here (rbcl returns the identity encoding), so this
    takes only points this module computed, never bytes from the wire.
    """
    if len(p) != POINT_BYTES or len(q) != POINT_BYTES:
        raise CryptoError
    return bytes(rbcl.crypto_core_ristretto255_sub(p, q))


def is_canonical_scalar(scalar: bytes) -> bool:
    """True iff ``scalar`` is 32 bytes encoding an integer below the group order L."""
    return len(scalar) == SCALAR_BYTES and int.from_bytes(scalar, "little") < GROUP_ORDER
