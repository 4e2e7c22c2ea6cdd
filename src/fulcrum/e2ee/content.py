"""The content-key layer: one fresh key per message body and per attachment.

Body:        nonce(12) || AES-256-GCM(K_m, nonce, pack_body(text, attachment keys),
                                      aad = canonical header)
             pack_body = LP(text) || canonical JSON list of the attachment keys
             (so whoever holds K_m — a recipient, or authorities after a lawful threshold
             decryption of the escrow field — can also open the message's attachments)
Attachment:  (K_enc, K_com) = HKDF-SHA256(K_att, info "att-v1", 64 bytes)
             ciphertext     = AES-256-GCM(K_enc, nonce, file, aad = "")
             key_commit     = HMAC-SHA256(K_com, nonce || SHA-256(ciphertext))
The key commitment stops "invisible salamander" ciphertexts that open under two keys.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from fulcrum.e2ee.errors import DecryptionFailed
from fulcrum.encoding import b64d, b64e, canonical_json, lp
from fulcrum.hazmat import CryptoError
from fulcrum.hazmat.symmetric import (
    GCM_NONCE_BYTES,
    KEY_BYTES,
    aes256gcm_open,
    aes256gcm_seal,
    constant_time_equal,
    hkdf_sha256,
    hmac_sha256,
    random_bytes,
    sha256,
)

ATTACHMENT_INFO = b"att-v1"


def new_content_key() -> bytes:
    return random_bytes(KEY_BYTES)


def seal_body(k_m: bytes, header: bytes, body: bytes, nonce: bytes | None = None) -> bytes:
    nonce = nonce if nonce is not None else random_bytes(GCM_NONCE_BYTES)
    return nonce + aes256gcm_seal(k_m, nonce, body, header)


def open_body(k_m: bytes, header: bytes, sealed: bytes) -> bytes:
    if len(sealed) < GCM_NONCE_BYTES + 16:
        raise DecryptionFailed("body too short")
    try:
        return aes256gcm_open(k_m, sealed[:GCM_NONCE_BYTES], sealed[GCM_NONCE_BYTES:], header)
    except CryptoError as exc:
        raise DecryptionFailed("body does not authenticate") from exc


@dataclass(frozen=True)
class AttachmentKey:
    """Everything a recipient needs to fetch, check and open one attachment (travels E2EE)."""

    attachment_id: str
    k_att: bytes
    nonce: bytes
    key_commit: bytes
    sha256_plain: bytes
    size: int
    mime: str
    name: str

    def __repr__(self) -> str:
        return f"AttachmentKey(id={self.attachment_id!r}, size={self.size}, mime={self.mime!r})"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.attachment_id,
            "k_att": b64e(self.k_att),
            "nonce": b64e(self.nonce),
            "key_commit": b64e(self.key_commit),
            "sha256_plain": b64e(self.sha256_plain),
            "size": self.size,
            "mime": self.mime,
            "name": self.name,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> AttachmentKey:
        try:
            return cls(
                attachment_id=str(data["id"]),
                k_att=b64d(str(data["k_att"]), length=KEY_BYTES),
                nonce=b64d(str(data["nonce"]), length=GCM_NONCE_BYTES),
                key_commit=b64d(str(data["key_commit"]), length=32),
                sha256_plain=b64d(str(data["sha256_plain"]), length=32),
                size=int(str(data["size"])),
                mime=str(data["mime"]),
                name=str(data["name"]),
            )
        except (KeyError, ValueError) as exc:
            raise DecryptionFailed("malformed attachment key") from exc


def pack_body(text: bytes, attachments: Sequence[AttachmentKey] = ()) -> bytes:
    """The plaintext sealed under K_m: the message text and the keys of its attachments."""
    if not attachments:
        return lp(text) + b"[]"
    return lp(text) + canonical_json([a.to_json() for a in attachments])


def unpack_body(data: bytes) -> tuple[bytes, tuple[AttachmentKey, ...]]:
    """Split an opened body into the text and the attachment keys (typed error if malformed)."""
    if len(data) < 4:
        raise DecryptionFailed("body too short")
    size = int.from_bytes(data[:4], "big")
    if size > len(data) - 4:
        raise DecryptionFailed("body length prefix out of range")
    text, rest = data[4 : 4 + size], data[4 + size :]
    if rest == b"[]":  # what pack_body writes for a message without attachments
        return text, ()
    try:
        keys = json.loads(rest)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecryptionFailed("malformed attachment keys in body") from exc
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise DecryptionFailed("malformed attachment keys in body")
    return text, tuple(AttachmentKey.from_json(k) for k in keys)


@dataclass(frozen=True)
class SealedAttachment:
    ciphertext: bytes
    k_att: bytes
    nonce: bytes
    key_commit: bytes
    sha256_plain: bytes
    size: int

    def __repr__(self) -> str:
        return f"SealedAttachment(size={self.size})"


def _attachment_keys(k_att: bytes) -> tuple[bytes, bytes]:
    okm = hkdf_sha256(k_att, salt=None, info=ATTACHMENT_INFO, length=64)
    return okm[:32], okm[32:]


def attachment_key_commit(k_att: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    _, k_com = _attachment_keys(k_att)
    return hmac_sha256(k_com, nonce + sha256(ciphertext))


def seal_attachment(
    data: bytes, k_att: bytes | None = None, nonce: bytes | None = None
) -> SealedAttachment:
    k_att = k_att if k_att is not None else random_bytes(KEY_BYTES)
    nonce = nonce if nonce is not None else random_bytes(GCM_NONCE_BYTES)
    k_enc, _ = _attachment_keys(k_att)
    ciphertext = aes256gcm_seal(k_enc, nonce, data, b"")
    return SealedAttachment(
        ciphertext=ciphertext,
        k_att=k_att,
        nonce=nonce,
        key_commit=attachment_key_commit(k_att, nonce, ciphertext),
        sha256_plain=sha256(data),
        size=len(data),
    )


def open_attachment(key: AttachmentKey, ciphertext: bytes) -> bytes:
    """Check the key commitment, decrypt, and check the plaintext hash and size."""
    if not constant_time_equal(
        attachment_key_commit(key.k_att, key.nonce, ciphertext), key.key_commit
    ):
        raise DecryptionFailed("attachment key commitment does not match")
    k_enc, _ = _attachment_keys(key.k_att)
    try:
        data = aes256gcm_open(k_enc, key.nonce, ciphertext, b"")
    except CryptoError as exc:
        raise DecryptionFailed("attachment does not authenticate") from exc
    if not constant_time_equal(sha256(data), key.sha256_plain) or len(data) != key.size:
        raise DecryptionFailed("attachment hash does not match")
    return data
