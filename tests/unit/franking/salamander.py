"""Build a real AES-GCM "invisible salamander": one (nonce, ciphertext, tag) valid under two keys.

Everything is derived through ``fulcrum.hazmat.symmetric``'s public AES-256-GCM API (no raw block
cipher): E_K(J0) is the tag of an empty message; H comes from the tag of one zero block of AAD;
the keystream from encrypting zeros. Then one free ciphertext block is solved for in GF(2^128)
so both keys give the same GHASH-masked tag (Grubbs-Lu-Ristenpart; Dodis et al. 2018).
"""

from __future__ import annotations

from fulcrum.hazmat.symmetric import aes256gcm_seal

_R = 0xE1 << 120
ONE = 1 << 127  # the multiplicative identity in GCM's bit order


def gf_mul(x: int, y: int) -> int:
    z, v = 0, y
    for i in range(127, -1, -1):
        if (x >> i) & 1:
            z ^= v
        v = (v >> 1) ^ _R if v & 1 else v >> 1
    return z


def gf_pow(x: int, e: int) -> int:
    result = ONE
    while e:
        if e & 1:
            result = gf_mul(result, x)
        x = gf_mul(x, x)
        e >>= 1
    return result


def gf_inv(x: int) -> int:
    assert x != 0
    return gf_pow(x, (1 << 128) - 2)


def _int(block: bytes) -> int:
    return int.from_bytes(block, "big")


def _len_block(aad_len: int, ct_len: int) -> int:
    return ((aad_len * 8) << 64) | (ct_len * 8)


def gcm_internals(key: bytes, nonce: bytes, blocks: int) -> tuple[int, int, bytes]:
    """(H, E_K(J0), keystream of ``blocks`` blocks) through the AEAD API only."""
    ej0 = _int(aes256gcm_seal(key, nonce, b"", b""))
    t1 = _int(aes256gcm_seal(key, nonce, b"", bytes(16)))
    h = gf_mul(t1 ^ ej0, gf_inv(_len_block(16, 0)))
    keystream = aes256gcm_seal(key, nonce, bytes(16 * blocks), b"")[:-16]
    return h, ej0, keystream


def ghash(h: int, ct_blocks: list[int]) -> int:
    y = 0
    for x in [*ct_blocks, _len_block(0, 16 * len(ct_blocks))]:
        y = gf_mul(y ^ x, h)
    return y


def salamander(
    k1: bytes, k2: bytes, nonce: bytes, p1: bytes, p2: bytes
) -> tuple[bytes, bytes, bytes]:
    """Ciphertext||tag whose K1-plaintext starts with ``p1`` and whose K2-plaintext has ``p2`` at
    the block after it. Returns (ciphertext_with_tag, plaintext_under_k1, plaintext_under_k2)."""
    assert len(p1) % 16 == 0
    assert len(p2) % 16 == 0
    m1, m2 = len(p1) // 16, len(p2) // 16
    n = m1 + m2 + 1  # one free block at the end
    h1, e1, ks1 = gcm_internals(k1, nonce, n)
    h2, e2, ks2 = gcm_internals(k2, nonce, n)
    ct = bytes(a ^ b for a, b in zip(p1, ks1[: 16 * m1], strict=True))
    ct += bytes(a ^ b for a, b in zip(p2, ks2[16 * m1 : 16 * (m1 + m2)], strict=True))
    blocks = [_int(ct[i : i + 16]) for i in range(0, len(ct), 16)] + [0]
    exponent = 2  # the free block is the last ciphertext block: coefficient H^2
    rhs = e1 ^ e2 ^ ghash(h1, blocks) ^ ghash(h2, blocks)
    blocks[-1] = gf_mul(rhs, gf_inv(gf_pow(h1, exponent) ^ gf_pow(h2, exponent)))
    ciphertext = b"".join(b.to_bytes(16, "big") for b in blocks)
    tag = e1 ^ ghash(h1, blocks)
    assert tag == e2 ^ ghash(h2, blocks)
    pt1 = bytes(a ^ b for a, b in zip(ciphertext, ks1, strict=True))
    pt2 = bytes(a ^ b for a, b in zip(ciphertext, ks2, strict=True))
    return ciphertext + tag.to_bytes(16, "big"), pt1, pt2
