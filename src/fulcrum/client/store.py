"""The client's encrypted append-only record log (``store.log`` in a device home).

File: ``b"FLCL1" || store_id(16) || log_id(16)`` then records, each
``length(4, big-endian) || kind(1) || nonce(12) || AES-256-GCM(data_key, [key, value])`` sealed by
``fulcrum.e2ee.at_rest.seal_record`` with associated data (store id, log id, sequence number, kind).
The sequence number is the record's position in the file and is not stored: a record moved, copied
or taken from another log fails to authenticate. A save appends its records and a ``COMMIT`` record
in one write, then fsyncs; replay applies only committed batches, last value of each (kind, key)
wins and a ``None`` value deletes. At open a torn or uncommitted tail is truncated. A record that
fails to authenticate is corruption (``StoreCorrupted``, never skipped) when any record after it
authenticates or is a commit: a crash while appending one batch leaves no commit after the break.
Compaction writes the live records to a new file with a fresh log id, fsyncs it, renames it over the
old one and fsyncs the directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fulcrum.e2ee.at_rest import ID_BYTES, NONCE_BYTES, TAG_BYTES, RecordKey, new_store_id
from fulcrum.e2ee.errors import DecryptionFailed

LOG_MAGIC = b"FLCL1"
LOG_HEADER = len(LOG_MAGIC) + 2 * ID_BYTES
COMMIT = 0
_FRAME = 4 + 1  # length prefix + kind
RECORD_OVERHEAD = _FRAME + NONCE_BYTES + TAG_BYTES
COMPACT_RATIO = 2.0
COMPACT_MIN_BYTES = 1 << 20

Record = tuple[int, str, Any]  # (kind, key, JSON value or None to delete)


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


def _encode(key: str, value: Any) -> bytes:
    return json.dumps([key, value], separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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


class RecordLog:
    """One open log: what it holds (``live``) and where the next record goes."""

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
        self._live: dict[tuple[int, str], bytes] = {}  # plaintext of the live record per key
        self._live_bytes = 0
        self._fd: int | None = None
        self._values: dict[tuple[int, str], Any] | None = None

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
        log._replay(path.read_bytes())
        return log

    def _replay(self, data: bytes) -> None:
        if len(data) < LOG_HEADER or not data.startswith(LOG_MAGIC):
            raise StoreCorrupted(f"{self.path} is not a Fulcrum store log")
        if data[len(LOG_MAGIC) : len(LOG_MAGIC) + ID_BYTES] != self.store_id:
            raise StoreCorrupted(f"{self.path} belongs to another device store")
        self.log_id = data[len(LOG_MAGIC) + ID_BYTES : LOG_HEADER]
        self._sealer = RecordKey(self._data_key, self.store_id, self.log_id)
        committed = LOG_HEADER
        pending: list[tuple[tuple[int, str], bytes, Any]] = []
        values: dict[tuple[int, str], Any] = {}
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
                for k, body, value in pending:
                    if value is None:
                        self._live.pop(k, None)
                        values.pop(k, None)
                    else:
                        self._live[k] = body
                        values[k] = value
                pending = []
                committed = offset + 4 + 1 + len(sealed)
                self.seq = seq + 1
            else:
                key, value = self._decode(plain)
                pending.append(((kind, key), plain, value))
        self._values = values
        self._live_bytes = sum(RECORD_OVERHEAD + len(p) for p in self._live.values())
        self.size = committed
        self.truncated = len(data) - committed
        if self.truncated:
            with self.path.open("r+b") as handle:
                handle.truncate(committed)
                os.fsync(handle.fileno())
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def _opens(self, seq: int, kind: int, sealed: bytes) -> bool:
        try:
            self._sealer.open(seq, kind, sealed)
        except DecryptionFailed:
            return False
        return True

    @staticmethod
    def _decode(plain: bytes) -> tuple[str, Any]:
        try:
            key, value = json.loads(plain)
        except (ValueError, TypeError) as exc:
            raise StoreCorrupted("a record's plaintext is not a [key, value] pair") from exc
        if not isinstance(key, str):
            raise StoreCorrupted("a record's key is not a string")
        return key, value

    # --- reading ----------------------------------------------------------------------------

    def items(self) -> Iterator[Record]:
        """The live records, in no particular order."""
        if self._values is not None:  # decoded at open, until the first write or release()
            for (kind, key), value in self._values.items():
                yield kind, key, value
            return
        for (kind, key), plain in self._live.items():
            yield kind, key, json.loads(plain)[1]

    def release(self) -> None:
        """Drop the values decoded at open (``items`` decodes from then on)."""
        self._values = None

    @property
    def live_bytes(self) -> int:
        """Bytes the live records take (what a compacted log would hold)."""
        return LOG_HEADER + self._live_bytes + RECORD_OVERHEAD

    # --- writing ----------------------------------------------------------------------------

    def write(self, records: Iterable[Record]) -> int:
        """Append ``records`` and a commit as one durable batch (fsynced). Returns bytes written."""
        out = bytearray()
        seq = self.seq
        staged: list[tuple[tuple[int, str], bytes | None]] = []
        for kind, key, value in records:
            if not 0 < kind < 256:
                raise ValueError(f"record kind {kind} is reserved or out of range")
            plain = _encode(key, value)
            out += self._frame(seq, kind, plain)
            staged.append(((kind, key), None if value is None else plain))
            seq += 1
        if not staged:
            return 0
        out += self._frame(seq, COMMIT, b"")
        fd = self._require_fd()
        self._values = None
        os.write(fd, bytes(out))
        os.fsync(fd)
        self.seq, self.size = seq + 1, self.size + len(out)
        for k, body in staged:
            old = self._live.pop(k, None)
            self._live_bytes -= 0 if old is None else RECORD_OVERHEAD + len(old)
            if body is not None:
                self._live[k] = body
                self._live_bytes += RECORD_OVERHEAD + len(body)
        return len(out)

    def _frame(self, seq: int, kind: int, plain: bytes) -> bytes:
        sealed = self._sealer.seal(seq, kind, plain)
        return (1 + len(sealed)).to_bytes(4, "big") + bytes([kind]) + sealed

    def _require_fd(self) -> int:
        if self._fd is None:
            raise HomeError("the store log is closed")
        return self._fd

    def compaction_due(self) -> bool:
        return self.size > self.compact_min_bytes and self.size > self.compact_ratio * (
            self.live_bytes
        )

    def compact(self) -> None:
        """Rewrite the log with only the live records (atomic: write, fsync, rename, fsync dir)."""
        self._rewrite([(k, key, plain) for (k, key), plain in self._live.items()])
        self.compactions += 1

    def _rewrite(self, live: list[tuple[int, str, bytes]]) -> None:
        self.close()
        self.log_id = new_store_id()
        self._sealer = RecordKey(self._data_key, self.store_id, self.log_id)
        out = bytearray(LOG_MAGIC + self.store_id + self.log_id)
        for seq, (kind, _, plain) in enumerate(live):
            out += self._frame(seq, kind, plain)
        out += self._frame(len(live), COMMIT, b"")
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("wb") as handle:
            handle.write(out)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)
        self.seq, self.size, self.truncated = len(live) + 1, len(out), 0
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
