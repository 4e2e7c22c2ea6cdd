"""The E2EE readiness gate (design note 09): new conversations start only once the latest
``ReadinessRecord`` in the transparency log passes, or while an operator's ``E2EEOverride`` for
the scope ``e2ee-new-conversations`` is in force (the override is itself a public log entry).

The gate refuses the FIRST message of a conversation (no earlier message in that conversation)
with a typed 403 ``e2ee_not_ready``; existing conversations are never interrupted.

Enabled by ``FULCRUM_E2EE_READINESS_GATE`` (``on``/``off``); when unset it is on in the
``production`` environment and off in ``development`` (so local tests and the demo run without a
readiness record). Production deployments must leave it on. State:
``state.features["readiness"]`` is the ``ReadinessGate``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from fulcrum.server.hooks import SendContext, SendRefused
from fulcrum.server.state import RelayState
from fulcrum.server.translog.service import TransparencyLog
from fulcrum.store.models import Message
from fulcrum.store.translog import LogTables
from fulcrum.translog import LogEntryError
from fulcrum.translog.entries import parse_entry
from fulcrum.translog.entry_types import E2EEOverride, ReadinessRecord
from fulcrum.wire.api import SendReceipt

FEATURE = "readiness"
SCOPE = "e2ee-new-conversations"
ENV_VAR = "FULCRUM_E2EE_READINESS_GATE"


@dataclass(frozen=True)
class GateStatus:
    record_passed: bool | None  # None: no readiness record in the log yet
    record_time: int | None
    override_until: int | None  # the latest override's expiry

    def open_at(self, now: int) -> bool:
        if self.override_until is not None and now < self.override_until:
            return True
        return bool(self.record_passed)


class ReadinessGate:
    """Follows the log (incrementally) for readiness records and overrides."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._seen = 0
        self._status = GateStatus(None, None, None)

    def status(self, session: Session) -> GateStatus:
        tables = LogTables(session)
        size = tables.tree().size()
        with self._lock:
            if size > self._seen:
                passed, at, until = (
                    self._status.record_passed,
                    self._status.record_time,
                    self._status.override_until,
                )
                for raw in tables.entries(self._seen, size):
                    try:
                        entry = parse_entry(raw)
                    except LogEntryError:
                        continue
                    if isinstance(entry, ReadinessRecord):
                        passed, at = entry.passed, entry.time
                    elif isinstance(entry, E2EEOverride) and entry.scope == SCOPE:
                        until = entry.expires_at
                self._status = GateStatus(passed, at, until)
                self._seen = size
            return self._status


def _new_conversation(session: Session, conv: str) -> bool:
    return session.scalars(select(Message.id).where(Message.conv == conv).limit(1)).first() is None


class ReadinessSendHook:
    def __init__(self, gate: ReadinessGate) -> None:
        self.gate = gate

    def before_accept(self, ctx: SendContext) -> None:
        if not self.gate.enabled or ctx.envelope.kind != "message":
            return
        if not _new_conversation(ctx.session, ctx.envelope.conv):
            return
        status = self.gate.status(ctx.session)
        if status.open_at(ctx.server_ts // 1000):
            return
        why = (
            "no readiness record in the transparency log"
            if status.record_passed is None
            else "the latest readiness record did not pass"
        )
        raise SendRefused(
            "e2ee_not_ready",
            f"end-to-end encrypted conversations cannot be started yet: {why} "
            "(run `fulcrum readiness`, or an operator override is needed)",
            403,
        )

    def after_accept(self, ctx: SendContext, receipt: SendReceipt) -> SendReceipt:
        return receipt


def gate_enabled(environment: str) -> bool:
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    return environment == "production"


def install(_app: FastAPI, state: RelayState) -> None:
    gate = ReadinessGate(gate_enabled(state.settings.environment))
    state.features[FEATURE] = gate
    state.hooks.send.insert(0, ReadinessSendHook(gate))


__all__ = [
    "FEATURE",
    "SCOPE",
    "GateStatus",
    "ReadinessGate",
    "gate_enabled",
    "install",
    "offline_log",
]


def offline_log(data_dir: Path, db_url: str | None = None) -> TransparencyLog:
    """The server's transparency log opened directly on its database (server stopped or not):
    the same keys under ``<data_dir>/translog`` and the same witnesses as ``build_log``."""
    from fulcrum.server.translog import open_log
    from fulcrum.store import Database

    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.connect(db_url or f"sqlite:///{(data_dir / 'fulcrum.db').resolve()}")
    db.migrate()
    return open_log(data_dir, db)  # witnesses as configured in FULCRUM_LOG_WITNESSES
