"""Symmetric primitives: AEAD, HKDF, HMAC, SHA-256, random bytes, constant-time compare."""

from __future__ import annotations

import hashlib
import hmac as _hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from fulcrum.hazmat.errors import CryptoError

KEY_BYTES = 32
GCM_NONCE_BYTES = 12


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def sha512(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()


def md5_hex(data: bytes) -> str:
    """MD5 only as a legacy file fingerprint for evidence handover, never for security."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    return _hmac.new(key, data, hashlib.sha256).digest()


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return _hmac.compare_digest(a, b)


def hkdf_sha256(ikm: bytes, *, salt: bytes | None, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def aes256gcm_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    if len(key) != KEY_BYTES or len(nonce) != GCM_NONCE_BYTES:
        raise CryptoError
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def aes256gcm_open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    if len(key) != KEY_BYTES or len(nonce) != GCM_NONCE_BYTES:
        raise CryptoError
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag as exc:
        raise CryptoError from exc


def chacha20poly1305_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    if len(key) != KEY_BYTES or len(nonce) != GCM_NONCE_BYTES:
        raise CryptoError
    return ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)


def chacha20poly1305_open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    if len(key) != KEY_BYTES or len(nonce) != GCM_NONCE_BYTES:
        raise CryptoError
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag as exc:
        raise CryptoError from exc


def scrypt_key(passphrase: bytes, salt: bytes, *, n: int = 2**15, r: int = 8, p: int = 1) -> bytes:
    """32-byte key from a passphrase (device state at rest)."""
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=r, p=p).derive(passphrase)
