"""RFC 9162 §2.1 Merkle trees: hashes, tree heads, inclusion and consistency proofs.

Proof *generation* reads leaf hashes from any ``LeafHashSource`` (in memory here, SQL on the
server). A source that also answers ``subtree_hash(start, end)`` for complete, aligned subtrees
makes every tree head and proof cost O(log n) lookups. Proof *verification* is the bit-twiddling
algorithm of RFC 9162 §2.1.3.2 and §2.1.4.2 and needs nothing but the proof.

Edge cases the RFC leaves open follow transparency-dev/merkle: a consistency proof from size 0 is
always rejected, and for equal sizes only an empty proof between equal roots is accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from fulcrum.hazmat.symmetric import constant_time_equal, sha256
from fulcrum.translog.errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"")
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry)."""
    return sha256(_LEAF + entry)


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return sha256(_NODE + left + right)


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


@runtime_checkable
class LeafHashSource(Protocol):
    """Read access to the leaf hashes of an append-only log."""

    def size(self) -> int: ...

    def leaf_hash(self, index: int) -> bytes: ...


@runtime_checkable
class SubtreeHashSource(LeafHashSource, Protocol):
    """A source that may also know the hash of complete subtrees.

    ``subtree_hash(start, end)`` is asked only for ranges where ``end - start`` is a power of two
    >= 2 and ``start`` is a multiple of it; return ``None`` when the hash is not stored.
    """

    def subtree_hash(self, start: int, end: int) -> bytes | None: ...


class _Nodes:
    """Tree-hash computations over a source, using its subtree cache when it has one."""

    def __init__(self, source: LeafHashSource) -> None:
        self._leaf = source.leaf_hash
        # getattr, not isinstance: runtime Protocol checks cost more than a whole proof.
        self._cached: Callable[[int, int], bytes | None] | None = getattr(
            source, "subtree_hash", None
        )

    def mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 1:
            return self._leaf(start)
        if n & (n - 1) == 0 and self._cached is not None:
            cached = self._cached(start, end)
            if cached is not None:
                return cached
        k = split_point(n)
        return node_hash(self.mth(start, start + k), self.mth(start + k, end))

    def path(self, index: int, end: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:end]), leaf-to-root order."""
        start, out = 0, []
        while end - start > 1:
            k = split_point(end - start)
            if index < start + k:
                out.append(self.mth(start + k, end))
                end = start + k
            else:
                out.append(self.mth(start, start + k))
                start += k
        out.reverse()
        return out

    def subproof(self, m: int, end: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 SUBPROOF(m, D[0:end], true), leaf-to-root order."""
        start, complete, out = 0, True, []
        while True:
            n = end - start
            if m == n:
                if not complete:
                    out.append(self.mth(start, end))
                break
            k = split_point(n)
            if m <= k:
                out.append(self.mth(start + k, end))
                end = start + k
            else:
                out.append(self.mth(start, start + k))
                start += k
                m -= k
                complete = False
        out.reverse()
        return out


def _checked_size(source: LeafHashSource, size: int | None) -> int:
    available = source.size()
    if size is None:
        return available
    if not 0 <= size <= available:
        raise ProofError(f"tree size {size} outside 0..{available}")
    return size


def root_hash(source: LeafHashSource, size: int | None = None) -> bytes:
    """MTH of the first ``size`` leaves (default: all)."""
    n = _checked_size(source, size)
    return EMPTY_ROOT if n == 0 else _Nodes(source).mth(0, n)


def inclusion_proof(source: LeafHashSource, index: int, size: int | None = None) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree of ``size`` leaves (default: all)."""
    n = _checked_size(source, size)
    if not 0 <= index < n:
        raise ProofError(f"leaf index {index} outside tree of size {n}")
    return _Nodes(source).path(index, n)


def consistency_proof(source: LeafHashSource, size1: int, size2: int | None = None) -> list[bytes]:
    """Proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2`` leaves."""
    n = _checked_size(source, size2)
    if not 0 <= size1 <= n:
        raise ProofError(f"size1 {size1} outside 0..{n}")
    if size1 in (0, n):
        return []
    return _Nodes(source).subproof(size1, n)


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, in O(n) without recursion."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Fold complete subtrees on a stack, as appends do, then merge the right border.
    stack: list[bytes] = []
    for count, h in enumerate(leaf_hashes, start=1):
        stack.append(h)
        c = count
        while c & 1 == 0:
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            c >>= 1
    root = stack.pop()
    while stack:
        root = node_hash(stack.pop(), root)
    return root


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2 steps 1-4: the root implied by an inclusion proof."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} outside tree of size {size}")
    _check_hash(leaf, "leaf hash")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p, "proof element")
        if sn == 0:
            raise ProofError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof too short")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise ``ProofError`` unless ``proof`` puts leaf hash ``leaf`` at ``index`` under ``root``."""
    _check_hash(root, "root hash")
    if not constant_time_equal(root_from_inclusion_proof(leaf, index, size, proof), root):
        raise ProofError("inclusion proof does not lead to the root hash")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Raise ``ProofError`` unless tree (size1, root1) is a prefix of tree (size2, root2)."""
    if size1 < 0 or size2 < size1:
        raise ProofError(f"size2 ({size2}) < size1 ({size1})")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size1 == size2:
        if proof:
            raise ProofError("size1 = size2 but the proof is not empty")
        if not constant_time_equal(root1, root2):
            raise ProofError("size1 = size2 but the roots differ")
        return
    if not proof:
        raise ProofError("empty consistency proof")
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")
    for p in proof:
        _check_hash(p, "proof element")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof too short")
    if not constant_time_equal(fr, root1):
        raise ProofError("consistency proof does not lead to root1")
    if not constant_time_equal(sr, root2):
        raise ProofError("consistency proof does not lead to root2")
