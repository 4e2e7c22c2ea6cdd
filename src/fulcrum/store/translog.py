"""Transparency-log tables: entries, complete-subtree hashes, checkpoints, cosignatures and the
durable state of the in-process witnesses.

``translog_entries`` is the log itself (index, canonical entry bytes, RFC 9162 leaf hash).
``translog_subtrees`` keeps every complete subtree hash (level h, index i covers leaves
``[i * 2**h, (i + 1) * 2**h)``; level 0 repeats the leaf hashes) so that tree heads and proofs cost
O(log n) lookups. An append writes its entry row and its subtree rows in one transaction
(``LogTables.append``), so a crash leaves either the whole append or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from fulcrum.store.models import Base, BigId
from fulcrum.translog import completed_subtrees, leaf_hash
from fulcrum.translog.errors import ProofError


class TranslogEntry(Base):
    __tablename__ = "translog_entries"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class TranslogSubtree(Base):
    __tablename__ = "translog_subtrees"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class TranslogCheckpoint(Base):
    __tablename__ = "translog_checkpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[bytes] = mapped_column(LargeBinary)  # signed by the log key only
    created_at: Mapped[int] = mapped_column(BigInteger)  # unix seconds


class TranslogCosignature(Base):
    __tablename__ = "translog_cosignatures"

    checkpoint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("translog_checkpoints.id", ondelete="CASCADE"), primary_key=True
    )
    witness: Mapped[str] = mapped_column(String(128), primary_key=True)
    line: Mapped[str] = mapped_column(Text)  # the signed-note signature line


class TranslogWitnessState(Base):
    __tablename__ = "translog_witness_state"

    witness: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[bytes] = mapped_column(LargeBinary)  # WitnessState.to_bytes()
    updated_at: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True)
class StoredCheckpoint:
    id: int
    size: int
    root_hash: bytes
    note: bytes
    cosignatures: tuple[str, ...]  # signature lines, newline-terminated


class SqlTree:
    """A ``SubtreeHashSource`` over the log tables, read inside one session."""

    def __init__(self, session: Session) -> None:
        self._s = session
        self._size: int | None = None

    def size(self) -> int:
        if self._size is None:
            top = self._s.scalar(select(func.max(TranslogEntry.idx)))
            self._size = 0 if top is None else int(top) + 1
        return self._size

    def leaf_hash(self, index: int) -> bytes:
        h = self._s.scalar(select(TranslogEntry.leaf_hash).where(TranslogEntry.idx == index))
        if h is None:
            raise ProofError(f"no leaf {index}")
        return bytes(h)

    def stored(self, level: int, index: int) -> bytes:
        h = self._s.scalar(
            select(TranslogSubtree.hash).where(
                TranslogSubtree.level == level, TranslogSubtree.idx == index
            )
        )
        if h is None:
            raise ProofError(f"no complete subtree at level {level} index {index}")
        return bytes(h)

    def subtree_hash(self, start: int, end: int) -> bytes | None:
        n = end - start
        if n <= 0 or n & (n - 1) or start % n or end > self.size():
            return None
        level = n.bit_length() - 1
        h = self._s.scalar(
            select(TranslogSubtree.hash).where(
                TranslogSubtree.level == level, TranslogSubtree.idx == start >> level
            )
        )
        return None if h is None else bytes(h)


class LogTables:
    """Repository over the log tables for one session (the caller owns the transaction)."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def tree(self) -> SqlTree:
        return SqlTree(self._s)

    def append(self, entry: bytes) -> int:
        """Add the entry row and every subtree it completes; return its index."""
        tree = SqlTree(self._s)
        index = tree.size()
        leaf = leaf_hash(entry)
        # plain INSERTs (no ORM unit of work): this is the hot path of every logged power
        self._s.execute(insert(TranslogEntry).values(idx=index, entry=entry, leaf_hash=leaf))
        nodes = [
            {"level": n.level, "idx": n.index, "hash": n.hash}
            for n in completed_subtrees(index, leaf, tree.stored)
        ]
        if nodes:
            self._s.execute(insert(TranslogSubtree), nodes)
        return index

    def entries(self, start: int, end: int) -> list[bytes]:
        rows = self._s.scalars(
            select(TranslogEntry.entry)
            .where(TranslogEntry.idx >= start, TranslogEntry.idx < end)
            .order_by(TranslogEntry.idx)
        )
        return [bytes(r) for r in rows]

    def add_checkpoint(
        self, size: int, root: bytes, note: bytes, lines: Iterable[tuple[str, str]], now: int
    ) -> int:
        row = TranslogCheckpoint(size=size, root_hash=root, note=note, created_at=now)
        self._s.add(row)
        self._s.flush()
        for witness, line in lines:
            self._s.add(TranslogCosignature(checkpoint_id=row.id, witness=witness, line=line))
        self._s.flush()
        return row.id

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self._s.scalars(
            select(TranslogCheckpoint).order_by(TranslogCheckpoint.id.desc()).limit(1)
        ).first()
        if row is None:
            return None
        lines = self._s.scalars(
            select(TranslogCosignature.line)
            .where(TranslogCosignature.checkpoint_id == row.id)
            .order_by(TranslogCosignature.witness)
        )
        return StoredCheckpoint(
            row.id, row.size, bytes(row.root_hash), bytes(row.note), tuple(lines)
        )

    def witness_state(self, witness: str) -> bytes | None:
        data = self._s.scalar(
            select(TranslogWitnessState.state).where(TranslogWitnessState.witness == witness)
        )
        return None if data is None else bytes(data)

    def save_witness_state(self, witness: str, state: bytes, now: int) -> None:
        row = self._s.get(TranslogWitnessState, witness)
        if row is None:
            self._s.add(TranslogWitnessState(witness=witness, state=state, updated_at=now))
        else:
            row.state = state
            row.updated_at = now
        self._s.flush()
