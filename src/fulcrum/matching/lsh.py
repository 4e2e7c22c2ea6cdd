"""Locality-sensitive keys over PDQ bits and the public parameters they depend on.

key_j = j (2 bytes, big-endian) || the k bits of the hash at positions S_j, packed MSB first.
S_j is k distinct bit positions drawn from a SHA-256 counter stream keyed by the public
per-epoch LSH seed, so anyone holding the manifest recomputes the same positions.
Two hashes share key_j exactly when they agree on all k bits of S_j.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from fulcrum.encoding import domain_message
from fulcrum.hazmat.symmetric import sha256
from fulcrum.matching.pdq import PDQ_BITS, PdqHash

DEFAULT_K = 40
DEFAULT_M = 498
DEFAULT_S = 2
DEFAULT_ACCOUNT_THRESHOLD = 5
DEFAULT_REVIEW_CAPACITY = 4096
LSH_SEED_BYTES = 32


@dataclass(frozen=True)
class MatchingParams:
    """The public parameters of one epoch (all published in the bank manifest)."""

    epoch: int
    lsh_seed: bytes
    k: int = DEFAULT_K
    m: int = DEFAULT_M
    s: int = DEFAULT_S
    account_threshold: int = DEFAULT_ACCOUNT_THRESHOLD
    review_capacity: int = DEFAULT_REVIEW_CAPACITY

    def __post_init__(self) -> None:
        if not 0 <= self.epoch < 1 << 63:
            raise ValueError("epoch out of range")
        if len(self.lsh_seed) != LSH_SEED_BYTES:
            raise ValueError("the LSH seed is 32 bytes")
        if not 1 <= self.k <= PDQ_BITS:
            raise ValueError("k must be in 1..256")
        if not 1 <= self.m <= 0xFFFF:
            raise ValueError("m must be in 1..65535")
        if not 2 <= self.s <= self.m or self.s > 16:
            raise ValueError("s must be in 2..min(m, 16)")
        if not 2 <= self.account_threshold <= 32:
            raise ValueError("the account threshold must be in 2..32")
        if not 0 <= self.review_capacity <= 1 << 20:
            raise ValueError("the review capacity must be in 0..1 MiB")

    @property
    def key_bytes(self) -> int:
        return 2 + (self.k + 7) // 8


@lru_cache(maxsize=16)
def _positions(seed: bytes, k: int, m: int) -> np.ndarray:
    out = np.empty((m, k), dtype=np.intp)
    for j in range(m):
        # Partial Fisher-Yates driven by 32-bit draws (modulo bias < 2^-24; the positions are
        # public, so the bias only needs to be small, not zero).
        words: list[int] = []
        counter = 0
        while len(words) < k:
            block = sha256(domain_message("fulcrum/match/lsh/v1", seed, _u32(j), _u32(counter)))
            words.extend(int.from_bytes(block[i : i + 4], "big") for i in range(0, 32, 4))
            counter += 1
        pool = list(range(PDQ_BITS))
        for i in range(k):
            pick = i + words[i] % (PDQ_BITS - i)
            pool[i], pool[pick] = pool[pick], pool[i]
        out[j] = pool[:k]
    out.setflags(write=False)
    return out


def _u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


def bit_positions(params: MatchingParams) -> np.ndarray:
    """The (m, k) array of bit positions S_j (read-only)."""
    return _positions(params.lsh_seed, params.k, params.m)


def lsh_keys(h: PdqHash, params: MatchingParams) -> list[bytes]:
    """The m LSH keys of one hash, key_j for j = 0..m-1."""
    return lsh_keys_from_bits(h.bits, params)


def lsh_keys_from_bits(bits: np.ndarray, params: MatchingParams) -> list[bytes]:
    selected = np.asarray(bits, dtype=np.uint8)[bit_positions(params)]
    packed = np.packbits(selected, axis=1)
    prefix = np.arange(params.m, dtype=">u2").view(np.uint8).reshape(params.m, 2)
    rows = np.concatenate([prefix, packed], axis=1)
    width = rows.shape[1]
    flat = rows.tobytes()
    return [flat[i * width : (i + 1) * width] for i in range(params.m)]
