"""The transparency log service: crash-safe appends, signed checkpoints, in-process witnesses.

Other features append through ``state.features["translog"]``::

    index = relay_state(app).features["translog"].append(SomeEntry(...))

``append`` is one database transaction that writes the entry and every complete subtree it
closes; an exception anywhere inside leaves the log as it was. ``checkpoint()`` signs the current
tree head with the log key and asks each witness to cosign it. A witness checks consistency with
the last head it cosigned, stores its new state durably (its own row), and only then releases the
cosignature; a checkpoint is kept only with at least ``min_witnesses`` cosignatures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from fulcrum.store import Database
from fulcrum.store.translog import LogTables, StoredCheckpoint
from fulcrum.translog import (
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    LogEntry,
    NoteSigner,
    NoteVerifier,
    RefusalReason,
    TranslogError,
    Witness,
    WitnessRefusal,
    WitnessState,
    consistency_proof,
    encode_entry,
    inclusion_proof,
    root_hash,
    sign_checkpoint,
)

_APPEND_LOCK_ID = 0x544C4F47  # "TLOG": serialises appends across processes on PostgreSQL


class CheckpointRefused(TranslogError):
    """Too few witnesses cosigned the new checkpoint (their refusals are attached)."""

    def __init__(self, refusals: Sequence[WitnessRefusal], needed: int) -> None:
        reasons = ", ".join(sorted({r.reason.value for r in refusals})) or "none"
        super().__init__(f"checkpoint cosigned by too few witnesses (need {needed}): {reasons}")
        self.refusals = tuple(refusals)


@dataclass(frozen=True)
class CosignedNote:
    size: int
    root_hash: bytes
    note: bytes  # log signature and witness cosignatures


class LogWitness(Protocol):
    """A witness the log asks for cosignatures: ``InProcessWitness`` or ``RemoteWitness``."""

    name: str
    verifier: CosignatureVerifier

    def known_size(self, db: Database) -> int: ...

    def cosign(
        self, db: Database, note: bytes, proof: list[bytes], old_size: int, now: int
    ) -> str: ...


class InProcessWitness:
    """A witness run by the server process, with its own key and its own state row."""

    def __init__(self, signer: CosignatureSigner, log: NoteVerifier) -> None:
        self.name = signer.name
        self._witness = Witness(signer, [log])
        self._origin = log.name
        self.verifier: CosignatureVerifier = signer.verifier()

    def __repr__(self) -> str:
        return f"InProcessWitness({self.name})"

    def known_size(self, db: Database) -> int:
        with db.read() as s:
            raw = LogTables(s).witness_state(self.name)
        head = WitnessState.from_bytes(raw).head(self._origin) if raw else None
        return 0 if head is None else head.size

    def cosign(self, db: Database, note: bytes, proof: list[bytes], old_size: int, now: int) -> str:
        """Cosign or raise ``WitnessRefusal``; the state is committed before the line leaves."""
        with db.write() as s:
            tables = LogTables(s)
            raw = tables.witness_state(self.name)
            state = WitnessState.from_bytes(raw) if raw else WitnessState()
            done = self._witness.cosign(state, note, proof, now, old_size)
            tables.save_witness_state(self.name, done.state.to_bytes(), now)
        return done.signature.line()


class TransparencyLog:
    """The log stored in the main database. Thread-safe; see the module docstring."""

    def __init__(
        self,
        db: Database,
        signer: NoteSigner,
        witnesses: Sequence[LogWitness],
        *,
        min_witnesses: int = 2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(witnesses) < min_witnesses:
            raise ValueError("fewer witnesses than the cosignature quorum")
        self.db = db
        self.signer = signer
        self.verifier = signer.verifier()
        self.witnesses = list(witnesses)
        self.min_witnesses = min_witnesses
        self.clock = clock
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TransparencyLog({self.origin}, witnesses={len(self.witnesses)})"

    @property
    def origin(self) -> str:
        return self.signer.name

    def witness_verifiers(self) -> list[CosignatureVerifier]:
        return [w.verifier for w in self.witnesses]

    # --- appending -------------------------------------------------------------------------------

    def append(self, entry: LogEntry | bytes) -> int:
        """Append one entry in its own transaction; return its index."""
        with self._lock, self.db.write() as session:
            return self.append_in(session, entry)

    def append_in(self, session: Session, entry: LogEntry | bytes) -> int:
        """Append inside the caller's write transaction (committed or rolled back with it)."""
        data = encode_entry(entry) if isinstance(entry, LogEntry) else bytes(entry)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _APPEND_LOCK_ID})
        return LogTables(session).append(data)

    # --- reading ---------------------------------------------------------------------------------

    def size(self) -> int:
        with self.db.read() as s:
            return LogTables(s).tree().size()

    def entries(self, start: int, end: int) -> list[bytes]:
        with self.db.read() as s:
            return LogTables(s).entries(start, end)

    def inclusion_proof(self, index: int, size: int) -> tuple[bytes, list[bytes]]:
        with self.db.read() as s:
            tree = LogTables(s).tree()
            return tree.leaf_hash(index), inclusion_proof(tree, index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        with self.db.read() as s:
            return consistency_proof(LogTables(s).tree(), size1, size2)

    # --- checkpoints -----------------------------------------------------------------------------

    def latest(self) -> StoredCheckpoint | None:
        with self.db.read() as s:
            return LogTables(s).latest_checkpoint()

    def checkpoint(self) -> CosignedNote:
        """A cosigned checkpoint of the current tree (reused if the tree has not grown)."""
        with self._lock:
            with self.db.read() as s:
                tables = LogTables(s)
                latest = tables.latest_checkpoint()
                tree = tables.tree()
                size = tree.size()
                root = root_hash(tree, size)
                if latest is not None and (latest.size, latest.root_hash) == (size, root):
                    return _cosigned(latest)
            note = sign_checkpoint(Checkpoint(self.origin, size, root), self.signer)
            now = int(self.clock())
            lines: list[tuple[str, str]] = []
            refusals: list[WitnessRefusal] = []
            for witness in self.witnesses:
                try:
                    lines.append((witness.name, self._ask(witness, note, size, now)))
                except WitnessRefusal as exc:
                    refusals.append(exc)
                except TranslogError as exc:  # e.g. no proof possible: history was cut
                    refusals.append(WitnessRefusal(RefusalReason.INCONSISTENT, str(exc)))
            if len(lines) < self.min_witnesses:
                raise CheckpointRefused(refusals, self.min_witnesses)
            with self.db.write() as s:
                tables = LogTables(s)
                tables.add_checkpoint(size, root, note, lines, now)
                stored = tables.latest_checkpoint()
            assert stored is not None
            return _cosigned(stored)

    def _ask(self, witness: LogWitness, note: bytes, size: int, now: int) -> str:
        """One cosignature; on a CONFLICT (our idea of its size was stale) retry once."""
        old = witness.known_size(self.db)
        try:
            proof = self.consistency_proof(old, size) if 0 < old < size else []
            return witness.cosign(self.db, note, proof, old, now)
        except WitnessRefusal as exc:
            if exc.reason is not RefusalReason.CONFLICT or exc.known_size is None:
                raise
            old = exc.known_size
            proof = self.consistency_proof(old, size) if 0 < old < size else []
            return witness.cosign(self.db, note, proof, old, now)


def _cosigned(stored: StoredCheckpoint) -> CosignedNote:
    return CosignedNote(
        stored.size, stored.root_hash, stored.note + "".join(stored.cosignatures).encode()
    )
