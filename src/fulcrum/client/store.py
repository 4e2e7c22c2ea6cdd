"""The client's encrypted append-only record log (``store.log`` in a device home).

File: ``b"FLCL1" || store_id(16) || log_id(16)`` then records, each
``length(4, big-endian) || kind(1) || nonce(12) || AES-256-GCM(data_key, plaintext)`` sealed by
``fulcrum.e2ee.at_rest.RecordKey`` with associated data (store id, log id, sequence number, kind).
The sequence number is the record's position in the file and is not stored: a record moved, copied
or taken from another log fails to authenticate. A record's plaintext is the JSON ``[key, value]``;
a ``PACK`` record holds many, as ``[[kind, key, value], ...]`` (compaction and large saves write
packs, so opening a big store decrypts and parses a few large records, not one per entry). A save
appends its records and a ``COMMIT`` record in one write, then fsyncs; replay applies only committed
saves, the last value of each (kind, key) wins and a ``None`` value deletes. At open a torn or
uncommitted tail is truncated. A record that fails to authenticate is corruption
(``StoreCorrupted``, never skipped) when any record after it authenticates or is a commit: a crash
while appending one save leaves no commit after the break. Compaction writes the live records to a
new file with a fresh log id, fsyncs it, renames it over the old one and fsyncs the directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fulcrum.e2ee.at_rest import ID_BYTES, NONCE_BYTES, TAG_BYTES, RecordKey, new_store_id
from fulcrum.e2ee.errors import DecryptionFailed

LOG_MAGIC = b"FLCL1"
LOG_HEADER = len(LOG_MAGIC) + 2 * ID_BYTES
COMMIT, PACK = 0, 255
_FRAME = 4 + 1  # length prefix + kind
RECORD_OVERHEAD = _FRAME + NONCE_BYTES + TAG_BYTES
COMPACT_RATIO = 2.0
COMPACT_MIN_BYTES = 1 << 20
PACK_MIN_RECORDS = 32  # a save with at least this many records is written as packs
PACK_BYTES = 256 * 1024  # plaintext per pack
REPACK_SINGLES = 4096  # single records beyond which (and beyond half the live ones) logs are packed

Record = tuple[int, str, Any]  # (kind, key, JSON value or None to delete)
Key = tuple[int, str]


class HomeError(Exception):
    """The home directory is missing, locked or unreadable."""


class StoreCorrupted(HomeError):
    """A record before the end of the log fails to authenticate or the log is not this store's."""


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _frames(data: bytes, start: int) -> Iterator[tuple[int, int, bytes]]:
    """(offset, kind, sealed) for each complete frame from ``start``; stops at a partial one."""
    at = start
    while at + _FRAME <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        end = at + 4 + length
        if length < 1 or end > len(data):
            return
        yield at, data[at + 4], data[at + 5 : end]
        at = end


def _record(kind: Any, key: Any, value: Any) -> Record:
    if not isinstance(kind, int) or not 0 < kind < PACK or not isinstance(key, str):
        raise StoreCorrupted("a record's plaintext is not a valid [key, value]")
    return kind, key, value


@dataclass
class _Scan:
    """What the committed part of a log file holds."""

    values: dict[Key, Any] = field(default_factory=dict)
    sizes: dict[Key, int] = field(default_factory=dict)
    committed: int = LOG_HEADER
    seq: int = 0
    singles: int = 0


class RecordLog:
    """One open log: what it holds (``items``, ``live_bytes``) and where the next record goes."""

    def __init__(
        self,
        path: Path,
        store_id: bytes,
        data_key: bytes,
        *,
        compact_ratio: float = COMPACT_RATIO,
        compact_min_bytes: int = COMPACT_MIN_BYTES,
    ) -> None:
        self.path = path
        self.store_id = store_id
        self._data_key = data_key
        self.compact_ratio = compact_ratio
        self.compact_min_bytes = compact_min_bytes
        self.log_id = b""
        self._sealer = RecordKey(data_key, store_id, b"")
        self.seq = 0
        self.size = 0
        self.truncated = 0  # bytes of torn or uncommitted tail dropped at open
        self.compactions = 0
        self.singles = 0  # records not in a pack
        self._sizes: dict[Key, int] = {}  # encoded size of each live record
        self._live_bytes = 0
        self._values: dict[Key, Any] | None = None  # decoded at open, until a write
        self._fd: int | None = None

    def __repr__(self) -> str:
        return f"RecordLog(path={str(self.path)!r}, records={self.seq}, bytes={self.size})"

    # --- opening ----------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, store_id: bytes, data_key: bytes, **kw: Any) -> RecordLog:
        log = cls(path, store_id, data_key, **kw)
        log._rewrite([])
        return log

    @classmethod
    def open(cls, path: Path, store_id: bytes, data_key: bytes, **kw: Any) -> RecordLog:
        log = cls(path, store_id, data_key, **kw)
        data = path.read_bytes()
        scan = log._scan(data)
        log._values, log._sizes = scan.values, scan.sizes
        log._live_bytes = sum(scan.sizes.values())
        log.seq, log.size, log.singles = scan.seq, scan.committed, scan.singles
        log.truncated = len(data) - scan.committed
        if log.truncated:
            with path.open("r+b") as handle:
                handle.truncate(scan.committed)
                os.fsync(handle.fileno())
        log._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        return log

    def _scan(self, data: bytes) -> _Scan:
        if len(data) < LOG_HEADER or not data.startswith(LOG_MAGIC):
            raise StoreCorrupted(f"{self.path} is not a Fulcrum store log")
        if data[len(LOG_MAGIC) : len(LOG_MAGIC) + ID_BYTES] != self.store_id:
            raise StoreCorrupted(f"{self.path} belongs to another device store")
        self.log_id = data[len(LOG_MAGIC) + ID_BYTES : LOG_HEADER]
        self._sealer = RecordKey(self._data_key, self.store_id, self.log_id)
        scan = _Scan()
        pending: list[tuple[Record, int]] = []
        singles = 0
        frames = _frames(data, LOG_HEADER)
        for seq, (offset, kind, sealed) in enumerate(frames):
            try:
                plain = self._sealer.open(seq, kind, sealed)
            except DecryptionFailed:
                if any(
                    k == COMMIT or self._opens(s, k, b)
                    for s, (_, k, b) in enumerate(frames, seq + 1)
                ):
                    raise StoreCorrupted(
                        f"record {seq} of {self.path} does not authenticate (offset {offset})"
                    ) from None
                break
            if kind == COMMIT:
                for (k, key, value), size in pending:
                    if value is None:
                        scan.values.pop((k, key), None)
                        scan.sizes.pop((k, key), None)
                    else:
                        scan.values[(k, key)], scan.sizes[(k, key)] = value, size
                scan.committed, scan.seq = offset + 4 + 1 + len(sealed), seq + 1
                scan.singles += singles
                pending, singles = [], 0
            elif kind == PACK:
                pending.extend(self._unpack(plain))
            else:
                pending.append((self._decode(kind, plain), RECORD_OVERHEAD + len(plain)))
                singles += 1
        return scan

    def _opens(self, seq: int, kind: int, sealed: bytes) -> bool:
        try:
            self._sealer.open(seq, kind, sealed)
        except DecryptionFailed:
            return False
        return True

    @staticmethod
    def _decode(kind: int, plain: bytes) -> Record:
        try:
            key, value = json.loads(plain)
        except (ValueError, TypeError) as exc:
            raise StoreCorrupted("a record's plaintext is not a [key, value] pair") from exc
        return _record(kind, key, value)

    @staticmethod
    def _unpack(plain: bytes) -> list[tuple[Record, int]]:
        try:
            records = [(kind, key, value) for kind, key, value in json.loads(plain)]
        except (ValueError, TypeError) as exc:
            raise StoreCorrupted("a pack record is not a list of [kind, key, value]") from exc
        if not all(type(r[0]) is int and 0 < r[0] < PACK and type(r[1]) is str for r in records):
            raise StoreCorrupted("a pack record holds an invalid [kind, key, value]")
        share = (len(plain) + RECORD_OVERHEAD) // max(1, len(records))
        return [(r, share) for r in records]

    # --- reading ----------------------------------------------------------------------------

    def items(self) -> Iterator[Record]:
        """The live records, in no particular order (decoded at open; read again after writes)."""
        values = self._values if self._values is not None else self._reread()
        for (kind, key), value in values.items():
            yield kind, key, value

    def release(self) -> None:
        """Drop the values decoded at open (``items`` reads the file from then on)."""
        self._values = None

    def _reread(self) -> dict[Key, Any]:
        data = self.path.read_bytes()
        scan = self._scan(data)
        if scan.committed != len(data):
            raise StoreCorrupted(f"{self.path} changed under this process")
        return scan.values

    @property
    def live_bytes(self) -> int:
        """Bytes the live records take (about what a compacted log would hold)."""
        return LOG_HEADER + self._live_bytes + RECORD_OVERHEAD

    # --- writing ----------------------------------------------------------------------------

    def write(self, records: Iterable[Record]) -> int:
        """Append ``records`` and a commit as one durable save (fsynced). Returns bytes written."""
        batch = list(records)
        if not batch:
            return 0
        for kind, _, _ in batch:
            if not 0 < kind < PACK:
                raise ValueError(f"record kind {kind} is reserved or out of range")
        out, sizes, seq = self._encode(batch, self.seq, pack=len(batch) >= PACK_MIN_RECORDS)
        out += self._frame(seq, COMMIT, b"")
        fd = self._require_fd()
        self._values = None
        os.write(fd, bytes(out))
        os.fsync(fd)
        self.seq, self.size = seq + 1, self.size + len(out)
        self.singles += 0 if len(batch) >= PACK_MIN_RECORDS else len(batch)
        for (kind, key, value), size in zip(batch, sizes, strict=True):
            self._live_bytes -= self._sizes.pop((kind, key), 0)
            if value is not None:
                self._sizes[(kind, key)] = size
                self._live_bytes += size
        return len(out)

    def _encode(
        self, batch: list[Record], seq: int, *, pack: bool
    ) -> tuple[bytearray, list[int], int]:
        """Frames for ``batch`` from position ``seq``: one per record, or packs."""
        out, sizes = bytearray(), []
        if not pack:
            for kind, key, value in batch:
                plain = _dumps([key, value])
                out += self._frame(seq, kind, plain)
                sizes.append(RECORD_OVERHEAD + len(plain))
                seq += 1
            return out, sizes, seq
        chunk: list[bytes] = []
        filled = 0
        for n, record in enumerate(batch):
            item = _dumps(list(record))
            chunk.append(item)
            sizes.append(len(item) + 1)
            filled += len(item) + 1
            if filled >= PACK_BYTES or n == len(batch) - 1:
                out += self._frame(seq, PACK, b"[" + b",".join(chunk) + b"]")
                seq, chunk, filled = seq + 1, [], 0
        return out, sizes, seq

    def _frame(self, seq: int, kind: int, plain: bytes) -> bytes:
        sealed = self._sealer.seal(seq, kind, plain)
        return (1 + len(sealed)).to_bytes(4, "big") + bytes([kind]) + sealed

    def _require_fd(self) -> int:
        if self._fd is None:
            raise HomeError("the store log is closed")
        return self._fd

    def compaction_due(self) -> bool:
        """The log is much larger than its live records, or over half its live records are single
        (unpacked) ones: either way a rewrite costs about what was appended since the last one."""
        if self.singles > REPACK_SINGLES and 2 * self.singles > len(self._sizes):
            return True
        return self.size > self.compact_min_bytes and self.size > self.compact_ratio * (
            self.live_bytes
        )

    def compact(self) -> None:
        """Rewrite the log with only the live records, packed (write, fsync, rename, fsync dir)."""
        values = self._values if self._values is not None else self._reread()
        self._rewrite([(kind, key, value) for (kind, key), value in values.items()])
        self.compactions += 1

    def _rewrite(self, live: list[Record]) -> None:
        self.close()
        self.log_id = new_store_id()
        self._sealer = RecordKey(self._data_key, self.store_id, self.log_id)
        out = bytearray(LOG_MAGIC + self.store_id + self.log_id)
        body, sizes, seq = self._encode(live, 0, pack=True) if live else (bytearray(), [], 0)
        out += body + self._frame(seq, COMMIT, b"")
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("wb") as handle:
            handle.write(out)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)
        self._sizes = {(kind, key): size for (kind, key, _), size in zip(live, sizes, strict=True)}
        self._live_bytes = sum(sizes)
        self.seq, self.size, self.truncated, self.singles = seq + 1, len(out), 0, 0
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
