"""The per-message escrow field ``EF = R || W || ch || s`` (144 bytes).

Construction (``ctx`` = ``EscrowContext.to_bytes()``, ``Y_e`` = the epoch's group key, ``H_s(label,
f1, f2, ...)`` = ``scalar_reduce(SHA-512(label || LP(f1) || LP(f2) ...))`` with 4-byte big-endian
length prefixes)::

    r  = H_s("escrow-r", K_m, ctx, Y_e)
    R  = r·G ;  S = r·Y_e
    w  = HKDF-SHA256(salt "escrow-v1", ikm S, info R || ctx, 32 bytes)
    W  = ChaCha20-Poly1305(w, nonce 0^12, K_m, aad ctx)            # 48 bytes
    k  = H_s("escrow-k", r, ctx) ;  A = k·G
    ch = H_s("escrow-pok", R, A, Y_e, ctx) ;  s = k + ch·r

Everything is deterministic in (K_m, ctx, Y_e): a recipient who knows K_m recomputes the field and
compares it byte for byte, in constant time. A trustee, who does not know K_m, checks the Schnorr
proof (ch, s) of knowledge of r = log_G R bound to ctx and Y_e. The fixed zero nonce is safe because
w is unique per (R, ctx) and each w encrypts exactly one K_m.
"""

from __future__ import annotations

from dataclasses import dataclass

from fulcrum.escrow.context import EscrowContext
from fulcrum.escrow.errors import EscrowFieldError
from fulcrum.hazmat import ristretto_bytes as rb
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import Point, Scalar
from fulcrum.hazmat.symmetric import (
    chacha20poly1305_open,
    chacha20poly1305_seal,
    constant_time_equal,
    hkdf_sha256,
)

CONTENT_KEY_BYTES = 32
WRAPPED_KEY_BYTES = 48
FIELD_BYTES = 32 + WRAPPED_KEY_BYTES + 32 + 32
KDF_SALT = b"escrow-v1"
ZERO_NONCE = bytes(12)


@dataclass(frozen=True)
class EscrowField:
    """A parsed escrow field. ``R`` is a strictly decoded non-identity point."""

    R: Point
    W: bytes
    ch: Scalar
    s: Scalar

    def __post_init__(self) -> None:
        if len(self.W) != WRAPPED_KEY_BYTES:
            raise EscrowFieldError(f"W must be {WRAPPED_KEY_BYTES} bytes")
        if self.R.is_identity():
            raise EscrowFieldError("R must not be the identity")

    def to_bytes(self) -> bytes:
        return self.R.to_bytes() + self.W + self.ch.to_bytes() + self.s.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> EscrowField:
        """Strict parse: exactly 144 bytes, R canonical and not the identity, ch and s < L."""
        return parse_escrow_field(data)


def parse_escrow_field(data: bytes) -> EscrowField:
    """Strict parse of the 144-byte wire form; ``EscrowFieldError`` on any defect."""
    if not isinstance(data, bytes | bytearray) or len(data) != FIELD_BYTES:
        raise EscrowFieldError(f"an escrow field is exactly {FIELD_BYTES} bytes")
    raw = bytes(data)
    try:
        point = Point.from_bytes(raw[:32])
        ch = Scalar.from_bytes(raw[80:112])
        s = Scalar.from_bytes(raw[112:])
    except CryptoError as exc:
        raise EscrowFieldError("escrow field has an invalid point or scalar encoding") from exc
    return EscrowField(R=point, W=raw[32:80], ch=ch, s=s)


def _check_inputs(k_m: bytes, epoch_key: Point) -> None:
    if not isinstance(k_m, bytes) or len(k_m) != CONTENT_KEY_BYTES:
        raise EscrowFieldError(f"the content key must be {CONTENT_KEY_BYTES} bytes")
    if epoch_key.is_identity():
        raise EscrowFieldError("the epoch key must not be the identity")


def derive_wrapping_key(shared: Point, R: Point, ctx_bytes: bytes) -> bytes:
    """``w = HKDF-SHA256(salt "escrow-v1", ikm S, info R || ctx)`` (R is fixed-length)."""
    return hkdf_sha256(
        shared.to_bytes(), salt=KDF_SALT, info=R.to_bytes() + ctx_bytes, length=CONTENT_KEY_BYTES
    )


def _field_bytes(k_m: bytes, ctx_bytes: bytes, y: bytes) -> bytes:
    """The 144 field bytes for (K_m, ctx, Y_e): the construction in the module docstring.

    Runs on raw encodings (``fulcrum.hazmat.ristretto_bytes``): three scalar multiplications, three
    hashes to scalars, one HKDF and one AEAD per call, and nothing else.
    """
    r = rb.hash_to_scalar("escrow-r", k_m, ctx_bytes, y)
    if rb.is_zero(r):  # probability 2^-252; never happens, but never emit R = identity
        raise EscrowFieldError("degenerate escrow randomness")
    big_r = rb.base_mul(r)
    try:
        shared = rb.mul(r, y)
    except CryptoError as exc:
        raise EscrowFieldError("the epoch key is not a valid group element") from exc
    w = hkdf_sha256(shared, salt=KDF_SALT, info=big_r + ctx_bytes, length=CONTENT_KEY_BYTES)
    wrapped = chacha20poly1305_seal(w, ZERO_NONCE, k_m, ctx_bytes)
    k = rb.hash_to_scalar("escrow-k", r, ctx_bytes)
    ch = rb.hash_to_scalar("escrow-pok", big_r, rb.base_mul(k), y, ctx_bytes)
    return big_r + wrapped + ch + rb.mul_add(ch, r, k)


def create_escrow_field(k_m: bytes, ctx: EscrowContext, epoch_key: Point) -> EscrowField:
    """The sender's escrow field for content key ``k_m`` under epoch key ``Y_e``."""
    _check_inputs(k_m, epoch_key)
    return parse_escrow_field(_field_bytes(k_m, ctx.to_bytes(), epoch_key.to_bytes()))


def escrow_field_bytes(k_m: bytes, ctx: EscrowContext, epoch_key: Point) -> bytes:
    """``create_escrow_field(...).to_bytes()`` without building the parsed value (the send path)."""
    _check_inputs(k_m, epoch_key)
    return _field_bytes(k_m, ctx.to_bytes(), epoch_key.to_bytes())


def verify_escrow_field(
    field_bytes: bytes, k_m: bytes, ctx: EscrowContext, epoch_key: Point
) -> bool:
    """Recipient check: the field is exactly what the sender should have produced.

    Recomputes the field from (K_m, ctx, Y_e) and compares all 144 bytes in constant time. A field
    of the wrong type or length is rejected before K_m is used; any other malformed field (a bad
    point or scalar encoding) cannot equal the recomputed, well-formed one. The message must not be
    displayed when this returns False.
    """
    if not isinstance(field_bytes, bytes | bytearray) or len(field_bytes) != FIELD_BYTES:
        return False
    try:
        _check_inputs(k_m, epoch_key)
        expected = _field_bytes(k_m, ctx.to_bytes(), epoch_key.to_bytes())
    except EscrowFieldError:
        return False
    return constant_time_equal(expected, bytes(field_bytes))


def verify_escrow_proof(field: EscrowField | bytes, ctx: EscrowContext, epoch_key: Point) -> bool:
    """Trustee check: (ch, s) proves knowledge of log_G R, bound to ctx and Y_e.

    A field whose R was lifted from another message and presented under a different context fails
    here, because ch commits to ctx. Strict: a field of the wrong length, a non-canonical scalar, or
    an R that is not a canonical non-identity point is rejected (the multiplication refuses an
    invalid R, and an identity R gives an identity product, which it refuses too).
    """
    data = field.to_bytes() if isinstance(field, EscrowField) else field
    if not isinstance(data, bytes | bytearray) or len(data) != FIELD_BYTES:
        return False
    data = bytes(data)
    big_r, ch, s = data[:32], data[80:112], data[112:]
    if not (rb.is_canonical_scalar(ch) and rb.is_canonical_scalar(s)) or epoch_key.is_identity():
        return False
    try:
        commitment = rb.sub(rb.base_mul(s), rb.mul(ch, big_r))
    except CryptoError:
        return False
    expected = rb.hash_to_scalar(
        "escrow-pok", big_r, commitment, epoch_key.to_bytes(), ctx.to_bytes()
    )
    return constant_time_equal(expected, ch)


def open_escrow_field(field: EscrowField, shared: Point, ctx: EscrowContext) -> bytes:
    """Recover K_m from the field given ``S = r·Y_e`` (the combined trustee output)."""
    ctx_bytes = ctx.to_bytes()
    w = derive_wrapping_key(shared, field.R, ctx_bytes)
    try:
        return chacha20poly1305_open(w, ZERO_NONCE, field.W, ctx_bytes)
    except CryptoError as exc:
        raise EscrowFieldError("escrow field did not open") from exc
