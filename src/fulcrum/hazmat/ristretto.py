"""ristretto255 (RFC 9496) scalars and group elements over libsodium (rbcl).

The only module in Fulcrum that touches rbcl. Two value types:

* ``Scalar``: an integer modulo the group order L, held as its canonical 32-byte little-endian
  encoding. Decoding (``Scalar.from_bytes``) rejects encodings >= L.
* ``Point``: a ristretto255 group element, held as its canonical 32-byte encoding. The strict
  decoder ``Point.from_bytes`` rejects non-canonical encodings, invalid encodings AND the identity
  (libsodium's ``is_valid_point`` accepts the identity). Arithmetic may still produce the identity
  (e.g. ``P - P``); callers that must not accept it check ``is_identity``.

All failures raise the opaque ``CryptoError``. Operations on secret scalars go through libsodium's
constant-time code; the Python-int helpers (``from_int``, ``to_int``) are for public values such as
Lagrange coefficients and trustee indices.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import overload

import rbcl

from fulcrum.encoding import domain_message
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.symmetric import constant_time_equal, random_bytes, sha512

SCALAR_BYTES = 32
POINT_BYTES = 32
UNIFORM_BYTES = 64
#: The prime order of the ristretto255 group.
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493

RandomSource = Callable[[int], bytes]
"""``rng(n) -> n random bytes``; defaults to the OS CSPRNG. Tests pass a seeded one."""


class Scalar:
    """An integer modulo L. Its value is never printed."""

    __slots__ = ("_raw",)
    _raw: bytes

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes) or len(raw) != SCALAR_BYTES:
            raise CryptoError
        if int.from_bytes(raw, "little") >= GROUP_ORDER:
            raise CryptoError
        object.__setattr__(self, "_raw", raw)

    @classmethod
    def _trusted(cls, raw: bytes) -> Scalar:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_raw", raw)
        return obj

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Scalar is immutable")

    @classmethod
    def from_bytes(cls, data: bytes) -> Scalar:
        """Strict decoding: exactly 32 bytes, canonical (< L)."""
        return cls(bytes(data))

    @classmethod
    def from_int(cls, value: int) -> Scalar:
        """A public integer (may be negative) reduced modulo L."""
        return cls._trusted((value % GROUP_ORDER).to_bytes(SCALAR_BYTES, "little"))

    def to_int(self) -> int:
        return int.from_bytes(self._raw, "little")

    def to_bytes(self) -> bytes:
        return self._raw

    def is_zero(self) -> bool:
        return constant_time_equal(self._raw, bytes(SCALAR_BYTES))

    def __add__(self, other: Scalar) -> Scalar:
        return Scalar._trusted(rbcl.crypto_core_ristretto255_scalar_add(self._raw, other._raw))

    def __sub__(self, other: Scalar) -> Scalar:
        return Scalar._trusted(rbcl.crypto_core_ristretto255_scalar_sub(self._raw, other._raw))

    def __neg__(self) -> Scalar:
        return Scalar._trusted(rbcl.crypto_core_ristretto255_scalar_negate(self._raw))

    @overload
    def __mul__(self, other: Scalar) -> Scalar: ...
    @overload
    def __mul__(self, other: Point) -> Point: ...
    def __mul__(self, other: Scalar | Point) -> Scalar | Point:
        if isinstance(other, Point):
            return other.mul(self)
        return Scalar._trusted(rbcl.crypto_core_ristretto255_scalar_mul(self._raw, other._raw))

    def invert(self) -> Scalar:
        """Multiplicative inverse; ``CryptoError`` for zero."""
        if self.is_zero():
            raise CryptoError
        return Scalar._trusted(rbcl.crypto_core_ristretto255_scalar_invert(self._raw))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scalar):
            return NotImplemented
        return constant_time_equal(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(("Scalar", self._raw))

    def __repr__(self) -> str:
        return "Scalar(<hidden>)"


class Point:
    """A ristretto255 group element (possibly the identity, see ``from_bytes``)."""

    __slots__ = ("_raw",)
    _raw: bytes

    def __init__(self, raw: bytes) -> None:
        """Accepts any valid canonical encoding, the identity included; prefer ``from_bytes``."""
        if not isinstance(raw, bytes) or len(raw) != POINT_BYTES:
            raise CryptoError
        if not rbcl.crypto_core_ristretto255_is_valid_point(raw):
            raise CryptoError
        object.__setattr__(self, "_raw", raw)

    @classmethod
    def _trusted(cls, raw: bytes) -> Point:
        obj = object.__new__(cls)
        object.__setattr__(obj, "_raw", raw)
        return obj

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Point is immutable")

    @classmethod
    def from_bytes(cls, data: bytes) -> Point:
        """Strict decoding: 32 bytes, canonical, valid, and NOT the identity."""
        point = cls(bytes(data))
        if point.is_identity():
            raise CryptoError
        return point

    @classmethod
    def identity(cls) -> Point:
        return cls._trusted(bytes(POINT_BYTES))

    @classmethod
    def generator(cls) -> Point:
        return GENERATOR

    def to_bytes(self) -> bytes:
        return self._raw

    def is_identity(self) -> bool:
        return self._raw == bytes(POINT_BYTES)

    def __add__(self, other: Point) -> Point:
        return Point._trusted(rbcl.crypto_core_ristretto255_add(self._raw, other._raw))

    def __sub__(self, other: Point) -> Point:
        return Point._trusted(rbcl.crypto_core_ristretto255_sub(self._raw, other._raw))

    def __neg__(self) -> Point:
        return Point.identity() - self

    def mul(self, scalar: Scalar) -> Point:
        """``scalar · self`` (zero scalar or identity give the identity)."""
        if self is GENERATOR:
            return base_mul(scalar)
        return Point._trusted(
            rbcl.crypto_scalarmult_ristretto255_allow_scalar_zero(scalar.to_bytes(), self._raw)
        )

    def __rmul__(self, scalar: Scalar) -> Point:
        return self.mul(scalar)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Point):
            return NotImplemented
        return constant_time_equal(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(("Point", self._raw))

    def __repr__(self) -> str:
        return f"Point({self._raw.hex()})"


def scalar_reduce(data: bytes) -> Scalar:
    """64 bytes (little-endian) reduced modulo L."""
    if len(data) != UNIFORM_BYTES:
        raise CryptoError
    return Scalar._trusted(rbcl.crypto_core_ristretto255_scalar_reduce(bytes(data)))


def random_scalar(rng: RandomSource | None = None) -> Scalar:
    """A uniformly random non-zero scalar (from 64 random bytes, reduced)."""
    draw = rng or random_bytes
    while True:
        scalar = scalar_reduce(draw(UNIFORM_BYTES))
        if not scalar.is_zero():
            return scalar


def hash_to_scalar_bytes(label: str, *fields: bytes) -> bytes:
    """The canonical 32-byte encoding of ``hash_to_scalar(label, *fields)`` (no wrapper object)."""
    return bytes(
        rbcl.crypto_core_ristretto255_scalar_reduce(sha512(domain_message(label, *fields)))
    )


def hash_to_scalar(label: str, *fields: bytes) -> Scalar:
    """``scalar_reduce(SHA-512(label || LP(f1) || LP(f2) ...))`` — domain-separated, unambiguous."""
    return Scalar._trusted(hash_to_scalar_bytes(label, *fields))


def hash_to_scalars(label: str, fields: Sequence[bytes], count: int) -> list[Scalar]:
    """``[hash_to_scalar(label, *fields, LE32(i)) ...]`` for i = 0..count-1, where ``LE32`` is
    ``i.to_bytes(4, "big")``: a series of domain-separated scalars that share one prefix.

    Byte for byte the same scalars as calling ``hash_to_scalar`` in a loop; the SHA-512 state over
    ``label || LP(f1) ..`` is computed once and copied for each counter.
    """
    if not 0 <= count < 1 << 32:
        raise CryptoError
    prefix = hashlib.sha512(domain_message(label, *fields))
    reduce = rbcl.crypto_core_ristretto255_scalar_reduce
    trusted = Scalar._trusted
    out = []
    for i in range(count):
        h = prefix.copy()
        h.update(b"\x00\x00\x00\x04" + i.to_bytes(4, "big"))
        out.append(trusted(reduce(h.digest())))
    return out


def weighted_sum(scalars: Sequence[Scalar], points: Sequence[Point]) -> Point:
    """``sum s_i·P_i`` (the identity for no terms): one libsodium multiplication per term and one
    addition between consecutive terms, with no intermediate ``Point`` objects.

    Same result as ``sum((p.mul(s) for s, p in ...), Point.identity())``, minus the first addition
    (to the identity) and the wrapper objects. ``points`` are ``Point`` values, valid by
    construction, so they are not validated again here.
    """
    if len(scalars) != len(points):
        raise CryptoError
    if not points:
        return Point.identity()
    mul = rbcl.crypto_scalarmult_ristretto255_allow_scalar_zero
    add = rbcl.crypto_core_ristretto255_add
    acc = mul(scalars[0]._raw, points[0]._raw)
    for i in range(1, len(points)):
        acc = add(acc, mul(scalars[i]._raw, points[i]._raw))
    return Point._trusted(bytes(acc))


def base_mul(scalar: Scalar) -> Point:
    """``scalar · G`` for the canonical generator (zero gives the identity)."""
    return Point._trusted(
        rbcl.crypto_scalarmult_ristretto255_base_allow_scalar_zero(scalar.to_bytes())
    )


def point_from_hash(data: bytes) -> Point:
    """RFC 9496 element derivation from 64 uniform bytes (libsodium ``from_hash``)."""
    if len(data) != UNIFORM_BYTES:
        raise CryptoError
    return Point._trusted(rbcl.crypto_core_ristretto255_from_hash(bytes(data)))


def is_valid_point(data: bytes) -> bool:
    """True iff ``data`` strictly decodes: canonical, valid and not the identity."""
    try:
        Point.from_bytes(data)
    except CryptoError:
        return False
    return True


GENERATOR = Point._trusted(rbcl.crypto_scalarmult_ristretto255_base(Scalar.from_int(1).to_bytes()))
