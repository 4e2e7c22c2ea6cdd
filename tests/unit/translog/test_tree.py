"""Merkle tree generation over sources with and without a subtree cache, checked by a naive MTH."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.translog import (
    InMemoryTree,
    ProofError,
    completed_subtrees,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from fulcrum.translog.merkle import EMPTY_ROOT, split_point

pytestmark = pytest.mark.unit


def naive_mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, written directly from the definition."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = split_point(len(hashes))
    return node_hash(naive_mth(hashes[:k]), naive_mth(hashes[k:]))


class ListSource:
    """A LeafHashSource with no subtree cache (what a bare SQL table would be)."""

    def __init__(self, hashes: list[bytes]) -> None:
        self.hashes = hashes
        self.reads = 0

    def size(self) -> int:
        return len(self.hashes)

    def leaf_hash(self, index: int) -> bytes:
        self.reads += 1
        return self.hashes[index]


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_roots_match_naive_and_uncached_source() -> None:
    hashes = leaves(70)
    tree = InMemoryTree()
    for i, lh in enumerate(hashes):
        tree.append_leaf_hash(lh)
        src = ListSource(hashes[: i + 1])
        assert tree.root_hash() == naive_mth(hashes[: i + 1]) == root_hash(src)


def test_all_proofs_small_trees() -> None:
    hashes = leaves(33)
    tree = InMemoryTree()
    for lh in hashes:
        tree.append_leaf_hash(lh)
    src = ListSource(hashes)
    for n in range(1, 34):
        root = naive_mth(hashes[:n])
        for i in range(n):
            proof = tree.inclusion_proof(i, n)
            assert proof == inclusion_proof(src, i, n)
            verify_inclusion(hashes[i], i, n, proof, root)
        for m in range(1, n + 1):
            proof = tree.consistency_proof(m, n)
            assert proof == consistency_proof(src, m, n)
            verify_consistency(m, n, proof, naive_mth(hashes[:m]), root)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_proofs_and_mutations(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 300))
    hashes = leaves(n)
    tree = InMemoryTree()
    for lh in hashes:
        tree.append_leaf_hash(lh)
    i = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(1, n - 1))
    root, root_m = naive_mth(hashes), naive_mth(hashes[:m])
    inc, con = tree.inclusion_proof(i), tree.consistency_proof(m)
    verify_inclusion(hashes[i], i, n, inc, root)
    verify_consistency(m, n, con, root_m, root)
    # Any flipped bit in any proof element, or a wrong index/size, must be rejected.
    if inc:
        j = data.draw(st.integers(0, len(inc) - 1))
        bad = list(inc)
        bad[j] = bytes([bad[j][0] ^ 1]) + bad[j][1:]
        with pytest.raises(ProofError):
            verify_inclusion(hashes[i], i, n, bad, root)
    j = data.draw(st.integers(0, len(con) - 1))
    bad = list(con)
    bad[j] = bytes([bad[j][0] ^ 0x80]) + bad[j][1:]
    with pytest.raises(ProofError):
        verify_consistency(m, n, bad, root_m, root)
    with pytest.raises(ProofError):
        verify_inclusion(hashes[i], (i + 1) % n, n, inc, root)
    with pytest.raises(ProofError):
        verify_consistency(m, n, con, root_m, bytes([root[0] ^ 4]) + root[1:])


def test_completed_subtrees_match_tree_storage() -> None:
    tree = InMemoryTree()
    stored: dict[tuple[int, int], bytes] = {}
    for i, lh in enumerate(leaves(100)):
        nodes = completed_subtrees(i, lh, lambda lvl, idx: stored[(lvl, idx)])
        tree.append_leaf_hash(lh)
        assert len(nodes) == 1 + (len(bin(i)) - len(bin(i).rstrip("1")))
        for node in nodes:
            stored[(node.level, node.index)] = node.hash
            assert tree.subtree_hash(node.start, node.end) == node.hash
    assert len(stored) == 2 * 100 - bin(100).count("1")


def test_cached_proofs_read_few_leaves() -> None:
    """With the subtree cache, a proof at 4096 leaves reads O(log n) hashes, not O(n)."""

    class CountingTree(InMemoryTree):
        reads = 0

        def leaf_hash(self, index: int) -> bytes:
            self.reads += 1
            return super().leaf_hash(index)

        def subtree_hash(self, start: int, end: int) -> bytes | None:
            self.reads += 1
            return super().subtree_hash(start, end)

    tree = CountingTree()
    for lh in leaves(4097):
        tree.append_leaf_hash(lh)
    tree.reads = 0
    tree.inclusion_proof(1234)
    tree.consistency_proof(1000)
    tree.root_hash()
    assert tree.reads < 3 * 3 * 13
    src = ListSource(leaves(4097))
    root_hash(src)
    assert src.reads == 4097


def test_bad_requests() -> None:
    tree = InMemoryTree()
    tree.append(b"a")
    with pytest.raises(ProofError):
        tree.inclusion_proof(1)
    with pytest.raises(ProofError):
        tree.consistency_proof(2)
    with pytest.raises(ProofError):
        tree.root_hash(5)
    with pytest.raises(ProofError):
        tree.append_leaf_hash(b"short")
    with pytest.raises(ProofError):
        tree.leaf_hash(-1)
    with pytest.raises(ProofError):
        root_from_inclusion_proof(b"\0" * 32, 0, 1, [b"\0" * 32])
    assert tree.consistency_proof(0) == []
    assert tree.consistency_proof(1) == []
    assert tree.subtree_hash(0, 3) is None
    assert tree.subtree_hash(2, 4) is None
    assert len(tree) == 1
