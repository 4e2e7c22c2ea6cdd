"""Shamir secret sharing of 16-byte secrets over GF(2^128) (pycryptodome's field and encoding).

``split``/``combine`` share a random-coefficient polynomial at x = 1..n. ``SharingPolynomial``
fixes the coefficients (e.g. derived from a client secret) so shares can be produced one at a
time at arbitrary 128-bit x, all consistent with one secret. Shares from either path combine with
``combine``. Failures raise the opaque ``CryptoError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from Crypto.Protocol.SecretSharing import Shamir as _Shamir
from Crypto.Protocol.SecretSharing import _Element

from fulcrum.hazmat.errors import CryptoError

SECRET_BYTES = 16
_FIELD_MAX = 1 << 128


@dataclass(frozen=True)
class Share:
    """One point (x, f(x)) of a sharing polynomial; ``x`` is a nonzero 128-bit integer."""

    x: int
    y: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.x < _FIELD_MAX or len(self.y) != SECRET_BYTES:
            raise CryptoError


def _check(secret: bytes) -> None:
    if len(secret) != SECRET_BYTES:
        raise CryptoError


def split(k: int, n: int, secret: bytes, randomness: bytes | None = None) -> list[Share]:
    """Split ``secret`` into shares at x = 1..n, any ``k`` of which recover it.

    For k = 2 the linear coefficient may be passed as ``randomness`` (16 bytes; otherwise it is
    drawn at random) and the shares are computed by XOR-combining a·2^i, which is exact in
    GF(2^128) and ~20x faster than evaluating the polynomial point by point.
    """
    _check(secret)
    if not 1 <= k <= n < _FIELD_MAX:
        raise CryptoError
    if k != 2:
        if randomness is not None:
            raise CryptoError
        return [Share(x, y) for x, y in _Shamir.split(k, n, secret)]
    from fulcrum.hazmat.symmetric import random_bytes

    coeff = randomness if randomness is not None else random_bytes(SECRET_BYTES)
    _check(coeff)
    a = _Element(coeff)
    base = int.from_bytes(secret, "big")
    powers = [int(a * _Element(1 << i)) for i in range(n.bit_length())]
    shares: list[Share] = []
    for x in range(1, n + 1):
        acc = base
        bits, i = x, 0
        while bits:
            if bits & 1:
                acc ^= powers[i]
            bits >>= 1
            i += 1
        shares.append(Share(x, acc.to_bytes(SECRET_BYTES, "big")))
    return shares


def combine(shares: Sequence[Share]) -> bytes:
    """Lagrange-interpolate f(0) from shares at distinct x. Needs exactly the threshold or more
    points on one polynomial; with fewer (or foreign) points the result is garbage, not an error."""
    if not shares:
        raise CryptoError
    xs = {s.x for s in shares}
    if len(xs) != len(shares):
        raise CryptoError
    try:
        return bytes(_Shamir.combine([(s.x, s.y) for s in shares]))
    except Exception as exc:
        raise CryptoError from exc


class SharingPolynomial:
    """A polynomial with fixed coefficients: f(0) = secret, degree ``len(coefficients)``."""

    __slots__ = ("_coeffs",)

    def __init__(self, secret: bytes, coefficients: Sequence[bytes]) -> None:
        _check(secret)
        for c in coefficients:
            _check(c)
        self._coeffs = [_Element(secret), *(_Element(c) for c in coefficients)]

    def __repr__(self) -> str:
        return f"SharingPolynomial(threshold={len(self._coeffs)})"

    @property
    def threshold(self) -> int:
        return len(self._coeffs)

    def share_at(self, x: int) -> Share:
        if not 0 < x < _FIELD_MAX:
            raise CryptoError
        point = _Element(x)
        acc = _Element(0)
        for c in reversed(self._coeffs):  # Horner
            acc = acc * point + c
        return Share(x, bytes(acc.encode()))
