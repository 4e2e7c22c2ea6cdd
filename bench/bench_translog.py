"""Transparency log tree: appends and proofs at 1M entries, with same-run baselines.

Ours: InMemoryTree.append (leaf hash + complete-subtree hashes as they form), RFC 9162 inclusion and
consistency proof generation over the subtree cache, and their verification.
Baselines, measured in this run: one bare SHA-256 of the same entry bytes (the floor for any
append), and the tree head computed from leaf hashes alone (an uncached source must do this O(n)
work for every proof or root).

Run: python bench/bench_translog.py [--n 1000000] [--proofs 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time

from fulcrum.translog import (
    InMemoryTree,
    merkle_root,
    verify_consistency,
    verify_inclusion,
)


class LeafOnlySource:
    """The same leaves with no subtree cache (what a bare leaf table gives)."""

    def __init__(self, tree: InMemoryTree) -> None:
        self._tree = tree

    def size(self) -> int:
        return self._tree.size()

    def leaf_hash(self, index: int) -> bytes:
        return self._tree.leaf_hash(index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000, help="leaves to append")
    parser.add_argument("--proofs", type=int, default=2000, help="proofs of each kind to time")
    args = parser.parse_args()
    n, k = args.n, args.proofs
    entries = [b'{"seq":%d,"type":"Bench","v":1}' % i for i in range(n)]

    t0 = time.perf_counter()
    for e in entries:
        hashlib.sha256(b"\x00" + e).digest()
    base_hash = time.perf_counter() - t0

    tree = InMemoryTree()
    t0 = time.perf_counter()
    for e in entries:
        tree.append(e)
    t_append = time.perf_counter() - t0

    t0 = time.perf_counter()
    root = tree.root_hash()
    t_root_cached = time.perf_counter() - t0
    leaf_hashes = [tree.leaf_hash(i) for i in range(n)]
    t0 = time.perf_counter()
    assert merkle_root(leaf_hashes) == root
    t_root_uncached = time.perf_counter() - t0

    rng = random.Random(7)
    indices = [rng.randrange(n) for _ in range(k)]
    t0 = time.perf_counter()
    inclusion = [tree.inclusion_proof(i) for i in indices]
    t_inc_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i, proof in zip(indices, inclusion, strict=True):
        verify_inclusion(leaf_hashes[i], i, n, proof, root)
    t_inc_ver = time.perf_counter() - t0

    olds = [rng.randrange(1, n) for _ in range(k)]
    t0 = time.perf_counter()
    consistency = [tree.consistency_proof(m) for m in olds]
    t_con_gen = time.perf_counter() - t0
    old_roots = [tree.root_hash(m) for m in olds]
    t0 = time.perf_counter()
    for m, r, proof in zip(olds, old_roots, consistency, strict=True):
        verify_consistency(m, n, proof, r, root)
    t_con_ver = time.perf_counter() - t0

    from fulcrum.translog import inclusion_proof

    uncached = LeafOnlySource(tree)
    reps = 3
    t0 = time.perf_counter()
    for i in indices[:reps]:
        assert inclusion_proof(uncached, i) == tree.inclusion_proof(i)
    t_inc_uncached = (time.perf_counter() - t0) / reps

    us = 1e6
    per_append = t_append / n * us
    per_hash = base_hash / n * us
    print(f"n = {n:,} leaves, {k:,} proofs of each kind, tree depth {(n - 1).bit_length()}")
    print(f"append:                 {per_append:8.2f} µs/leaf  ({t_append:.2f} s total)")
    print(
        f"  baseline bare SHA-256 {per_hash:8.2f} µs/leaf  -> append = {per_append / per_hash:.1f}x"
    )
    print(f"tree head (cached):     {t_root_cached * us:8.1f} µs")
    print(f"  baseline from leaves  {t_root_uncached * us:8.0f} µs  -> "
          f"{t_root_uncached / max(t_root_cached, 1e-9):,.0f}x slower")  # fmt: skip
    inc_len = sum(map(len, inclusion)) / k
    con_len = sum(map(len, consistency)) / k
    print(f"inclusion proof gen:    {t_inc_gen / k * us:8.1f} µs  (avg {inc_len:.1f} hashes)")
    print(f"  uncached source       {t_inc_uncached * us:8.0f} µs  -> "
          f"{t_inc_uncached / (t_inc_gen / k):,.0f}x slower")  # fmt: skip
    print(f"inclusion proof verify: {t_inc_ver / k * us:8.1f} µs")
    print(f"consistency proof gen:  {t_con_gen / k * us:8.1f} µs  (avg {con_len:.1f} hashes)")
    print(f"consistency verify:     {t_con_ver / k * us:8.1f} µs")
    print(f"memory: {sum(len(r) for r in tree._levels) / 2**20:.1f} MiB of stored hashes")


if __name__ == "__main__":
    main()
