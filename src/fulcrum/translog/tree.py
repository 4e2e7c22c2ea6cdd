"""An append-only Merkle tree that stores every complete subtree hash as it forms.

Storage layout (the SQL implementation on the server uses the same one): level ``h`` holds the
hashes of complete subtrees of ``2**h`` leaves, ``level[h][i]`` covering leaves
``[i * 2**h, (i + 1) * 2**h)``; level 0 is the leaf hashes. Appending leaf ``n`` adds one hash to
level 0 and one more hash per trailing 1-bit of ``n`` (one on average). With every complete subtree
stored, a tree head or a proof costs O(log n) lookups at any size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fulcrum.hazmat.symmetric import sha256
from fulcrum.translog import merkle
from fulcrum.translog.errors import ProofError

_H = merkle.HASH_SIZE


@dataclass(frozen=True)
class SubtreeNode:
    """A complete subtree hash: level h, index i covers leaves [i * 2**h, (i + 1) * 2**h)."""

    level: int
    index: int
    hash: bytes

    @property
    def start(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


def completed_subtrees(
    leaf_index: int, leaf: bytes, stored: Callable[[int, int], bytes]
) -> list[SubtreeNode]:
    """The subtree hashes completed by appending leaf hash ``leaf`` at ``leaf_index``.

    ``stored(level, index)`` returns an already stored complete-subtree hash (only left siblings
    are asked for). The result includes the leaf itself (level 0); store all of it in the same
    transaction as the entry.
    """
    if len(leaf) != _H:
        raise ProofError("leaf hash must be 32 bytes")
    nodes = [SubtreeNode(0, leaf_index, leaf)]
    level, index, h = 0, leaf_index, leaf
    while index & 1:
        h = merkle.node_hash(stored(level, index - 1), h)
        level += 1
        index >>= 1
        nodes.append(SubtreeNode(level, index, h))
    return nodes


class InMemoryTree:
    """A ``SubtreeHashSource`` kept in memory: one bytearray of concatenated hashes per level."""

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]

    def __len__(self) -> int:
        return len(self._levels[0]) // _H

    def size(self) -> int:
        return len(self._levels[0]) // _H

    def append(self, entry: bytes) -> int:
        """Append an entry (its leaf hash is computed here); return its index."""
        return self.append_leaf_hash(sha256(b"\x00" + entry))

    def append_leaf_hash(self, leaf: bytes) -> int:
        if len(leaf) != _H:
            raise ProofError("leaf hash must be 32 bytes")
        levels = self._levels
        index = len(levels[0]) // _H
        levels[0] += leaf
        level, i, h = 0, index, leaf
        while i & 1:
            left = levels[level][(i - 1) * _H : i * _H]
            h = sha256(b"\x01" + left + h)
            level += 1
            i >>= 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += h
        return index

    def leaf_hash(self, index: int) -> bytes:
        if not 0 <= index < self.size():
            raise ProofError(f"leaf index {index} outside tree of size {self.size()}")
        return bytes(self._levels[0][index * _H : (index + 1) * _H])

    def subtree_hash(self, start: int, end: int) -> bytes | None:
        n = end - start
        if n <= 0 or n & (n - 1) or start % n:
            return None
        level = n.bit_length() - 1
        if level >= len(self._levels):
            return None
        index = start >> level
        row = self._levels[level]
        if (index + 1) * _H > len(row):
            return None
        return bytes(row[index * _H : (index + 1) * _H])

    def stored(self, level: int, index: int) -> bytes:
        """The stored complete-subtree hash at (level, index), as ``completed_subtrees`` wants."""
        h = self.subtree_hash(index << level, (index + 1) << level)
        if h is None:
            raise ProofError(f"no complete subtree at level {level} index {index}")
        return h

    def root_hash(self, size: int | None = None) -> bytes:
        return merkle.root_hash(self, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return merkle.inclusion_proof(self, index, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return merkle.consistency_proof(self, size1, size2)
