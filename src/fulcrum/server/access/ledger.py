"""The warrant rows and the transparency log as the workflow steps see them.

``WarrantLedger`` reads warrants (their sealed openings), the logged steps and requests, and
appends each step's log entry together with its ``access_steps`` row; ``AccessService``
(``service.py``) builds the workflow on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from fulcrum.access import AccessError, LogTrust, WarrantOpening
from fulcrum.server.access.sealing import OpeningSeal
from fulcrum.server.escrow import TrusteeCouncil
from fulcrum.server.translog import TransparencyLog
from fulcrum.store import Database
from fulcrum.store.access import AccessRequest, AccessStep, AccessWarrant
from fulcrum.translog import LogEntry, parse_entry


class WorkflowError(AccessError):
    """A step refused: ``code`` is the typed error code, ``status`` the HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class WarrantLedger:
    """Warrant rows, logged steps and the log: what every workflow step reads and appends."""

    def __init__(
        self,
        db: Database,
        log: TransparencyLog,
        council: TrusteeCouncil | None,
        root: Path,
        *,
        retrospective_seconds: int = 0,
        clock: Callable[[], float] = time.time,
        on_activate: Callable[[], None] = lambda: None,
    ) -> None:
        self.db, self.log, self.council, self.root = db, log, council, root
        self.retrospective_seconds = retrospective_seconds
        self.clock = clock
        self.on_activate = on_activate
        self.seal = OpeningSeal(root)

    def __repr__(self) -> str:
        return f"AccessService({self.root})"

    def now(self) -> int:
        return int(self.clock())

    # --- log helpers -------------------------------------------------------------------------

    def entries(self) -> list[LogEntry]:
        return [parse_entry(e) for e in self.log.entries(0, self.log.size())]

    def _append(self, warrant_id: str, entry: LogEntry, detail: str = "") -> int:
        index = self.log.append(entry)
        with self.db.write() as s:
            s.add(AccessStep(warrant_id=warrant_id, step=entry.TYPE, log_index=index,
                             time=entry.time, detail=detail[:256]))  # fmt: skip
        return index

    def trust(self) -> LogTrust:
        return LogTrust(self.log.verifier, tuple(self.log.witness_verifiers()),
                        self.log.min_witnesses)  # fmt: skip

    def _council(self) -> TrusteeCouncil:
        if self.council is None:
            raise WorkflowError(404, "escrow_not_configured", "this server runs no trustees")
        return self.council

    def warrant(self, warrant_id: str) -> AccessWarrant:
        with self.db.read() as s:
            row = s.get(AccessWarrant, warrant_id)
            if row is None:
                raise WorkflowError(404, "warrant_unknown", f"no warrant {warrant_id!r}")
            s.expunge(row)
            return row

    def opening(self, warrant_id: str) -> WarrantOpening:
        row = self.warrant(warrant_id)
        return WarrantOpening.from_bytes(self.seal.open(row.sealed_opening, warrant_id))

    def _approvals(self, warrant_id: str) -> dict[str, bool]:
        from fulcrum.translog import TrusteeApproval

        return {e.trustee_id: e.approved for e in self.entries()
                if isinstance(e, TrusteeApproval) and e.warrant_id == warrant_id}  # fmt: skip

    def requests_of(self, warrant_id: str) -> list[AccessRequest]:
        with self.db.read() as s:
            rows = list(
                s.scalars(
                    select(AccessRequest)
                    .where(AccessRequest.warrant_id == warrant_id)
                    .order_by(AccessRequest.log_index)
                )
            )
            for r in rows:
                s.expunge(r)
        return rows

    def steps(self, warrant_id: str) -> list[AccessStep]:
        with self.db.read() as s:
            rows = list(
                s.scalars(
                    select(AccessStep)
                    .where(AccessStep.warrant_id == warrant_id)
                    .order_by(AccessStep.log_index)
                )
            )
            for r in rows:
                s.expunge(r)
        return rows
