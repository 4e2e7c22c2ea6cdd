"""The platform's per-epoch tag table: {tag -> (entry, j, voucher key)} as sorted arrays.

Rows are sorted by tag (a 64-bit big-endian integer) so a bundle's m tags are found with one
vectorised binary search. ``root`` is SHA-256 over a canonical serialisation; the manifest
commits to it so the platform can check it received the table the custodian published.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fulcrum.hazmat.symmetric import sha256
from fulcrum.matching.errors import VoucherFormatError
from fulcrum.matching.pdq import PDQ_BYTES

_HEAD = struct.Struct(">4sQII")  # magic, epoch, entries, rows
_ID_BYTES = 16


@dataclass(frozen=True)
class TableEntry:
    """A bank entry as the platform sees it: opaque id and its PDQ hash (for verification)."""

    entry_id: str
    pdq: bytes

    def __post_init__(self) -> None:
        if len(self.pdq) != PDQ_BYTES or not 0 < len(self.entry_id.encode()) <= _ID_BYTES:
            raise ValueError("entry id must be 1..16 bytes, pdq 32 bytes")


class TagTable:
    """Sorted arrays: tags (uint64), entry index (uint32), j (uint16), key (n x 32 uint8)."""

    __slots__ = ("entries", "entry_pdqs", "epoch", "j", "keys", "rows_entry", "tags")

    def __init__(
        self,
        epoch: int,
        entries: Sequence[TableEntry],
        tags: np.ndarray,
        rows_entry: np.ndarray,
        j: np.ndarray,
        keys: np.ndarray,
    ) -> None:
        n = len(tags)
        if not (len(rows_entry) == len(j) == n and keys.shape == (n, 32)):
            raise VoucherFormatError("tag table arrays differ in length")
        order = np.argsort(tags, kind="stable")
        self.epoch = epoch
        self.entries = tuple(entries)
        self.entry_pdqs = np.frombuffer(b"".join(e.pdq for e in entries), dtype=np.uint8).reshape(
            len(entries), PDQ_BYTES
        )
        self.tags = np.ascontiguousarray(tags.astype(np.uint64)[order])
        self.rows_entry = np.ascontiguousarray(rows_entry.astype(np.uint32)[order])
        self.j = np.ascontiguousarray(j.astype(np.uint16)[order])
        self.keys = np.ascontiguousarray(keys.astype(np.uint8)[order])
        if n and int(self.rows_entry.max()) >= len(self.entries):
            raise VoucherFormatError("tag table row names an unknown entry")

    def __repr__(self) -> str:
        return f"TagTable(epoch={self.epoch}, entries={len(self.entries)}, rows={len(self.tags)})"

    def __len__(self) -> int:
        return len(self.tags)

    def lookup(self, tags: Sequence[bytes]) -> list[list[int]]:
        """Row indices whose tag equals each query tag (usually empty)."""
        q = np.frombuffer(b"".join(tags), dtype=">u8").astype(np.uint64)
        lo = np.searchsorted(self.tags, q, side="left")
        hi = np.searchsorted(self.tags, q, side="right")
        return [
            list(range(a, b)) if b > a else []
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True)
        ]

    def lookup_array(self, tags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (query position, row) pairs whose tags are equal, for a uint64 query array."""
        empty = np.empty(0, dtype=np.intp)
        if not len(self.tags):
            return empty, empty
        lo = np.searchsorted(self.tags, tags, side="left")
        found = self.tags[np.minimum(lo, len(self.tags) - 1)] == tags
        hit = np.flatnonzero(found)  # one search for all; the second only for the hits
        if not len(hit):
            return empty, empty
        per = np.searchsorted(self.tags, tags[hit], side="right") - lo[hit]
        query = np.repeat(hit, per)
        starts = np.repeat(lo[hit] - np.cumsum(per) + per, per)
        rows = starts + np.arange(len(query))
        return query, rows

    def _entries_bytes(self) -> bytes:
        return b"".join(e.entry_id.encode().ljust(_ID_BYTES, b"\0") + e.pdq for e in self.entries)

    def _rows_bytes(self) -> bytes:
        return b"".join(
            [
                self.tags.astype(">u8").tobytes(),
                self.rows_entry.astype(">u4").tobytes(),
                self.j.astype(">u2").tobytes(),
                self.keys.tobytes(),
            ]
        )

    def to_bytes(self) -> bytes:
        head = _HEAD.pack(b"FMTT", self.epoch, len(self.entries), len(self.tags))
        return head + self._entries_bytes() + self._rows_bytes()

    def root(self) -> bytes:
        """SHA-256 commitment over the canonical serialisation (rows in tag order)."""
        return sha256(b"fulcrum/match/tag-table/v1" + sha256(self.to_bytes()))

    @classmethod
    def from_bytes(cls, data: bytes) -> TagTable:
        if len(data) < _HEAD.size:
            raise VoucherFormatError("tag table too short")
        magic, epoch, n_entries, n_rows = _HEAD.unpack_from(data)
        if magic != b"FMTT":
            raise VoucherFormatError("not a tag table")
        entry_size = _ID_BYTES + PDQ_BYTES
        expected = _HEAD.size + n_entries * entry_size + n_rows * (8 + 4 + 2 + 32)
        if len(data) != expected:
            raise VoucherFormatError(f"expected {expected} bytes, got {len(data)}")
        pos = _HEAD.size
        entries = []
        for _ in range(n_entries):
            raw_id = data[pos : pos + _ID_BYTES].rstrip(b"\0")
            try:
                entry_id = raw_id.decode()
            except UnicodeDecodeError as exc:
                raise VoucherFormatError("entry id is not UTF-8") from exc
            try:
                entries.append(TableEntry(entry_id, data[pos + _ID_BYTES : pos + entry_size]))
            except ValueError as exc:
                raise VoucherFormatError(str(exc)) from exc
            pos += entry_size

        def arr(dtype: str, count: int, width: int = 1) -> np.ndarray:
            nonlocal pos
            size = np.dtype(dtype).itemsize * count * width
            out = np.frombuffer(data, dtype=dtype, count=count * width, offset=pos)
            pos += size
            return out

        tags = arr(">u8", n_rows)
        rows_entry = arr(">u4", n_rows)
        j = arr(">u2", n_rows)
        keys = arr("u1", n_rows, 32).reshape(n_rows, 32)
        table = cls(epoch, entries, tags, rows_entry, j, keys)
        if table.to_bytes() != data:
            raise VoucherFormatError("tag table rows are not in canonical (sorted) order")
        return table
