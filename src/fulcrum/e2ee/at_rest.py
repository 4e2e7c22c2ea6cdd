"""Device state at rest: sealed under a key derived from the device passphrase (scrypt).

Blob layout: b"FLCS1" || salt(16) || log2(N)(1) || nonce(12) || AES-256-GCM(key, state, aad).
The key is never stored; a wrong passphrase or any modified byte fails to open.
Vodozemac pickles inside the state use ``pickle_key(key)``, a separate HKDF-derived key.
"""

from __future__ import annotations

from fulcrum.e2ee.errors import DecryptionFailed
from fulcrum.hazmat import CryptoError
from fulcrum.hazmat.symmetric import (
    aes256gcm_open,
    aes256gcm_seal,
    hkdf_sha256,
    random_bytes,
    scrypt_key,
)

MAGIC = b"FLCS1"
DEFAULT_LOG2_N = 15
_HEADER = len(MAGIC) + 16 + 1


def storage_key(passphrase: str, salt: bytes, log2_n: int) -> bytes:
    return scrypt_key(passphrase.encode("utf-8"), salt, n=1 << log2_n)


def pickle_key(key: bytes) -> bytes:
    return hkdf_sha256(key, salt=None, info=b"fulcrum-pickle-v1", length=32)


def new_salt() -> bytes:
    return random_bytes(16)


def seal_state(key: bytes, salt: bytes, log2_n: int, state: bytes) -> bytes:
    header = MAGIC + salt + bytes([log2_n])
    nonce = random_bytes(12)
    return header + nonce + aes256gcm_seal(key, nonce, state, header)


def read_salt(blob: bytes) -> tuple[bytes, int]:
    """Salt and scrypt cost of a sealed blob (both public)."""
    if len(blob) < _HEADER + 12 + 16 or not blob.startswith(MAGIC):
        raise DecryptionFailed("not a Fulcrum device state file")
    return blob[len(MAGIC) : len(MAGIC) + 16], blob[len(MAGIC) + 16]


def open_state(key: bytes, blob: bytes) -> bytes:
    read_salt(blob)
    header, nonce, body = blob[:_HEADER], blob[_HEADER : _HEADER + 12], blob[_HEADER + 12 :]
    try:
        return aes256gcm_open(key, nonce, body, header)
    except CryptoError as exc:
        raise DecryptionFailed("wrong passphrase or damaged state") from exc
