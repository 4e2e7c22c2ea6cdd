"""Sealing a message to one recipient's X25519 public key (ephemeral-static DH, HKDF, AEAD).

``box_seal(recipient, plaintext, aad=..., info=...)`` draws an ephemeral X25519 key, derives a
ChaCha20-Poly1305 key with HKDF-SHA256 over the shared secret (salt = ephemeral public key ||
recipient public key, ``info`` = the caller's domain label) and returns ``ephemeral public key ||
ciphertext``. Only the holder of the recipient's secret key opens it; any defect (wrong key, wrong
``aad`` or ``info``, tampering, a low-order point) is the one opaque ``CryptoError``. A fresh key
per message, so the all-zero nonce is never reused under one key.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.symmetric import chacha20poly1305_open, chacha20poly1305_seal, hkdf_sha256

BOX_KEY_BYTES = 32
BOX_OVERHEAD = 32 + 16
_NONCE = bytes(12)


def _public_raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


class BoxSecretKey:
    """An X25519 secret key. Its repr never shows key material."""

    __slots__ = ("_key",)

    def __init__(self, raw: bytes) -> None:
        if len(raw) != BOX_KEY_BYTES:
            raise CryptoError
        self._key = X25519PrivateKey.from_private_bytes(raw)

    @classmethod
    def generate(cls) -> BoxSecretKey:
        return cls(X25519PrivateKey.generate().private_bytes_raw())

    @property
    def raw(self) -> bytes:
        return self._key.private_bytes_raw()

    def public_key(self) -> bytes:
        return _public_raw(self._key.public_key())

    def __repr__(self) -> str:
        return "BoxSecretKey(<secret>)"


def _key(shared: bytes, eph_pub: bytes, recipient: bytes, info: bytes) -> bytes:
    if shared == bytes(32):
        raise CryptoError
    return hkdf_sha256(shared, salt=eph_pub + recipient, info=info, length=32)


def box_seal(recipient: bytes, plaintext: bytes, *, aad: bytes, info: bytes) -> bytes:
    if len(recipient) != BOX_KEY_BYTES:
        raise CryptoError
    eph = X25519PrivateKey.generate()
    eph_pub = _public_raw(eph.public_key())
    try:
        shared = eph.exchange(X25519PublicKey.from_public_bytes(recipient))
    except ValueError as exc:
        raise CryptoError from exc
    key = _key(shared, eph_pub, recipient, info)
    return eph_pub + chacha20poly1305_seal(key, _NONCE, plaintext, aad)


def box_open(secret: BoxSecretKey, sealed: bytes, *, aad: bytes, info: bytes) -> bytes:
    if len(sealed) < BOX_OVERHEAD:
        raise CryptoError
    eph_pub, ct = sealed[:32], sealed[32:]
    try:
        shared = secret._key.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    except ValueError as exc:
        raise CryptoError from exc
    key = _key(shared, eph_pub, secret.public_key(), info)
    try:
        return chacha20poly1305_open(key, _NONCE, ct, aad)
    except InvalidTag as exc:  # pragma: no cover - chacha20poly1305_open already maps it
        raise CryptoError from exc
