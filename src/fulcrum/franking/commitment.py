"""The sender's franking commitment and the attachment binding checks.

    c = HMAC-SHA256(k_f, "frank-v1" || LP(C(meta)) || LP(body))      # 32 bytes, never truncated

The attachment key commitment is the content-key layer's (``fulcrum.e2ee.content``):
``key_commit = HMAC(K_com, nonce || SHA-256(ciphertext))``, ``K_com`` from HKDF(K_att, "att-v1").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fulcrum.e2ee.content import attachment_key_commit
from fulcrum.encoding import domain_message
from fulcrum.franking._fields import check_bytes
from fulcrum.franking.meta import AttachmentRef, FrankingMeta
from fulcrum.hazmat.symmetric import constant_time_equal, hmac_sha256, random_bytes, sha256

FRANK_LABEL = "frank-v1"
FRANKING_KEY_BYTES = 32
COMMITMENT_BYTES = 32


def new_franking_key() -> bytes:
    """A fresh 32-byte ``k_f`` for one message."""
    return random_bytes(FRANKING_KEY_BYTES)


def commit(k_f: bytes, meta: FrankingMeta, body: bytes) -> bytes:
    """The franking commitment ``c`` over the canonical meta and the body."""
    check_bytes("k_f", k_f, FRANKING_KEY_BYTES)
    return hmac_sha256(k_f, domain_message(FRANK_LABEL, meta.canonical(), body))


def commitment_matches(k_f: bytes, meta: FrankingMeta, body: bytes, commitment: bytes) -> bool:
    """Recompute ``c`` and compare in constant time."""
    if len(k_f) != FRANKING_KEY_BYTES or len(commitment) != COMMITMENT_BYTES:
        return False
    return constant_time_equal(commit(k_f, meta, body), commitment)


@dataclass(frozen=True)
class AttachmentOpening:
    """One attachment as the recipient actually fetched and decrypted it.

    ``k_att`` and ``nonce`` come from the ratchet payload, ``ciphertext`` from the attachment
    store, ``plaintext`` is what was decrypted (and would be displayed).
    """

    k_att: bytes
    nonce: bytes
    ciphertext: bytes
    plaintext: bytes

    def __repr__(self) -> str:  # never print keys or content
        return f"AttachmentOpening(size={len(self.plaintext)})"


def attachment_matches(ref: AttachmentRef, opening: AttachmentOpening) -> bool:
    """Key commitment, plaintext hash and size all match the franked reference."""
    key_ok = constant_time_equal(
        attachment_key_commit(opening.k_att, opening.nonce, opening.ciphertext), ref.key_commit
    )
    hash_ok = constant_time_equal(sha256(opening.plaintext), ref.sha256_plain)
    size_ok = len(opening.plaintext) == ref.size
    return key_ok & hash_ok & size_ok


def attachments_match(refs: Sequence[AttachmentRef], openings: Sequence[AttachmentOpening]) -> bool:
    """Every franked attachment is matched, in order, by exactly one opening."""
    if len(refs) != len(openings):
        return False
    ok = True
    for ref, opening in zip(refs, openings, strict=True):
        ok &= attachment_matches(ref, opening)
    return ok
