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
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import Point, Scalar, base_mul, hash_to_scalar
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


def _proof_challenge(R: Point, A: Point, epoch_key: Point, ctx_bytes: bytes) -> Scalar:
    return hash_to_scalar("escrow-pok", R.to_bytes(), A.to_bytes(), epoch_key.to_bytes(), ctx_bytes)


def create_escrow_field(k_m: bytes, ctx: EscrowContext, epoch_key: Point) -> EscrowField:
    """The sender's escrow field for content key ``k_m`` under epoch key ``Y_e``."""
    _check_inputs(k_m, epoch_key)
    ctx_bytes = ctx.to_bytes()
    y = epoch_key.to_bytes()
    r = hash_to_scalar("escrow-r", k_m, ctx_bytes, y)
    if r.is_zero():  # probability 2^-252; never happens, but never emit R = identity
        raise EscrowFieldError("degenerate escrow randomness")
    R = base_mul(r)
    shared = epoch_key.mul(r)
    w = derive_wrapping_key(shared, R, ctx_bytes)
    W = chacha20poly1305_seal(w, ZERO_NONCE, k_m, ctx_bytes)
    k = hash_to_scalar("escrow-k", r.to_bytes(), ctx_bytes)
    A = base_mul(k)
    ch = _proof_challenge(R, A, epoch_key, ctx_bytes)
    return EscrowField(R=R, W=W, ch=ch, s=k + ch * r)


def verify_escrow_field(
    field_bytes: bytes, k_m: bytes, ctx: EscrowContext, epoch_key: Point
) -> bool:
    """Recipient check: the field is exactly what the sender should have produced.

    Parses strictly first (a malformed field is rejected without touching K_m), then recomputes the
    field from (K_m, ctx, Y_e) and compares all 144 bytes in constant time. The message must not be
    displayed when this returns False.
    """
    try:
        parse_escrow_field(field_bytes)
        expected = create_escrow_field(k_m, ctx, epoch_key).to_bytes()
    except EscrowFieldError:
        return False
    return constant_time_equal(expected, bytes(field_bytes))


def verify_escrow_proof(field: EscrowField | bytes, ctx: EscrowContext, epoch_key: Point) -> bool:
    """Trustee check: (ch, s) proves knowledge of log_G R, bound to ctx and Y_e.

    A field whose R was lifted from another message and presented under a different context fails
    here, because ch commits to ctx.
    """
    try:
        parsed = field if isinstance(field, EscrowField) else parse_escrow_field(field)
    except EscrowFieldError:
        return False
    if epoch_key.is_identity():
        return False
    A = base_mul(parsed.s) - parsed.R.mul(parsed.ch)
    expected = _proof_challenge(parsed.R, A, epoch_key, ctx.to_bytes())
    return expected == parsed.ch


def open_escrow_field(field: EscrowField, shared: Point, ctx: EscrowContext) -> bytes:
    """Recover K_m from the field given ``S = r·Y_e`` (the combined trustee output)."""
    ctx_bytes = ctx.to_bytes()
    w = derive_wrapping_key(shared, field.R, ctx_bytes)
    try:
        return chacha20poly1305_open(w, ZERO_NONCE, field.W, ctx_bytes)
    except CryptoError as exc:
        raise EscrowFieldError("escrow field did not open") from exc
