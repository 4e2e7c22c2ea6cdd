"""Device state at rest: a random data key wrapped under a passphrase-derived key (scrypt).

Key file (``store.key``)::

    b"FLCK1" || salt(16) || log2(N)(1) || store_id(16) || nonce(12) || AES-256-GCM(kek, dk, aad)

with ``dk`` the data key, ``kek = scrypt(passphrase, salt, N)`` and ``aad`` the 38 header bytes
before the nonce. The data key seals each record of the append-only store individually
(``seal_record``): a fresh nonce per record and associated data binding the store id, the log
file's id, the record's sequence number and its kind, so records cannot be reordered, swapped
between stores or log files, or replayed at another position. A passphrase change re-wraps the
data key only.

The whole-state format of earlier versions (``state.fulcrum``:
b"FLCS1" || salt(16) || log2(N)(1) || nonce(12) || AES-256-GCM(kek, state, header)) is still read,
so an existing home can be converted once. Nothing here does I/O.
Vodozemac pickles inside the state use ``pickle_key(key)``, a separate HKDF-derived key.
"""

from __future__ import annotations

from fulcrum.e2ee.errors import DecryptionFailed
from fulcrum.encoding import domain_message
from fulcrum.hazmat import CryptoError
from fulcrum.hazmat.symmetric import (
    aes256gcm_open,
    aes256gcm_seal,
    hkdf_sha256,
    random_bytes,
    scrypt_key,
)

MAGIC = b"FLCS1"
KEY_MAGIC = b"FLCK1"
DEFAULT_LOG2_N = 15
ID_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
_HEADER = len(MAGIC) + 16 + 1
_KEY_HEADER = len(KEY_MAGIC) + 16 + 1 + ID_BYTES
_RECORD_LABEL = "fulcrum-store-record-v1"


class WrongPassphrase(DecryptionFailed):
    """The passphrase does not open this device's key (or the key file was modified)."""


def storage_key(passphrase: str, salt: bytes, log2_n: int) -> bytes:
    return scrypt_key(passphrase.encode("utf-8"), salt, n=1 << log2_n)


def pickle_key(key: bytes) -> bytes:
    return hkdf_sha256(key, salt=None, info=b"fulcrum-pickle-v1", length=32)


def new_salt() -> bytes:
    return random_bytes(16)


def new_data_key() -> bytes:
    return random_bytes(32)


def new_store_id() -> bytes:
    return random_bytes(ID_BYTES)


# --- wrapped data key -----------------------------------------------------------------------


def wrap_data_key(kek: bytes, salt: bytes, log2_n: int, store_id: bytes, data_key: bytes) -> bytes:
    """The key file's bytes: the data key sealed under the passphrase-derived ``kek``."""
    if len(salt) != 16 or len(store_id) != ID_BYTES or not 1 <= log2_n <= 30:
        raise ValueError("bad key file parameters")
    header = KEY_MAGIC + salt + bytes([log2_n]) + store_id
    nonce = random_bytes(NONCE_BYTES)
    return header + nonce + aes256gcm_seal(kek, nonce, data_key, header)


def read_key_header(blob: bytes) -> tuple[bytes, int, bytes]:
    """Salt, scrypt cost (log2 N) and store id of a key file (all public)."""
    if len(blob) != _KEY_HEADER + NONCE_BYTES + 32 + TAG_BYTES or not blob.startswith(KEY_MAGIC):
        raise DecryptionFailed("not a Fulcrum device key file")
    at = len(KEY_MAGIC)
    return blob[at : at + 16], blob[at + 16], blob[at + 17 : _KEY_HEADER]


def unwrap_data_key(kek: bytes, blob: bytes) -> bytes:
    read_key_header(blob)
    header, nonce = blob[:_KEY_HEADER], blob[_KEY_HEADER : _KEY_HEADER + NONCE_BYTES]
    try:
        return aes256gcm_open(kek, nonce, blob[_KEY_HEADER + NONCE_BYTES :], header)
    except CryptoError as exc:
        raise WrongPassphrase("wrong passphrase or damaged key file") from exc


# --- records ---------------------------------------------------------------------------------


def record_aad(store_id: bytes, log_id: bytes, seq: int, kind: int) -> bytes:
    """``domain_message(label, store_id, log_id, seq as 8 bytes, kind as 1 byte)``."""
    return domain_message(
        _RECORD_LABEL, store_id, log_id, seq.to_bytes(8, "big"), kind.to_bytes(1, "big")
    )


class RecordKey:
    """The data key of one log file: seals and opens its records (the AAD prefix is cached)."""

    __slots__ = ("_key", "_prefix")

    def __init__(self, data_key: bytes, store_id: bytes, log_id: bytes) -> None:
        self._key = data_key
        self._prefix = domain_message(_RECORD_LABEL, store_id, log_id)

    def __repr__(self) -> str:
        return "RecordKey(<secret>)"

    def _aad(self, seq: int, kind: int) -> bytes:
        # Same bytes as record_aad: the two fields have fixed lengths (8 and 1).
        return self._prefix + b"\0\0\0\x08" + seq.to_bytes(8, "big") + b"\0\0\0\x01" + bytes([kind])

    def seal(self, seq: int, kind: int, plaintext: bytes) -> bytes:
        """``nonce || AES-256-GCM(data_key, plaintext, aad(store, log, seq, kind))``."""
        nonce = random_bytes(NONCE_BYTES)
        return nonce + aes256gcm_seal(self._key, nonce, plaintext, self._aad(seq, kind))

    def open(self, seq: int, kind: int, sealed: bytes) -> bytes:
        if len(sealed) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionFailed("record too short")
        try:
            return aes256gcm_open(
                self._key, sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], self._aad(seq, kind)
            )
        except CryptoError as exc:
            raise DecryptionFailed("record does not authenticate") from exc


def seal_record(
    data_key: bytes, store_id: bytes, log_id: bytes, seq: int, kind: int, plaintext: bytes
) -> bytes:
    return RecordKey(data_key, store_id, log_id).seal(seq, kind, plaintext)


def open_record(
    data_key: bytes, store_id: bytes, log_id: bytes, seq: int, kind: int, sealed: bytes
) -> bytes:
    return RecordKey(data_key, store_id, log_id).open(seq, kind, sealed)


# --- the earlier whole-state format (read for migration; written by tests and the bench) ----


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
        raise WrongPassphrase("wrong passphrase or damaged state") from exc
