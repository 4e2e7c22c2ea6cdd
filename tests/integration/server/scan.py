"""Dump everything the server stored or logged, so a test can assert a marker never appears.

``stored_bytes(db)`` concatenates every text, JSON and blob column of every table;
``LogCapture`` collects the formatted JSON log lines of the ``fulcrum`` loggers.
"""

from __future__ import annotations

import json
import logging
from types import TracebackType

from sqlalchemy import select

from fulcrum.server.observability import JsonLineFormatter
from fulcrum.store import Database
from fulcrum.store.models import Base


def stored_bytes(db: Database) -> bytes:
    out: list[bytes] = []
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        out.append(bytes(value))
                    elif isinstance(value, str):
                        out.append(value.encode())
                    elif isinstance(value, dict | list):
                        out.append(json.dumps(value).encode())
    return b"\n".join(out)


def stored_files(root: object) -> bytes:
    """Every file under a data dir (e.g. the SQLite file and its WAL)."""
    from pathlib import Path

    base = Path(str(root))
    return b"".join(p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file())


class LogCapture(logging.Handler):
    """Attach to the ``fulcrum`` logger; ``text`` is every formatted line so far."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonLineFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __enter__(self) -> LogCapture:
        logger = logging.getLogger("fulcrum")
        self._old_level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        logger = logging.getLogger("fulcrum")
        logger.removeHandler(self)
        logger.setLevel(self._old_level)


def assert_marker_absent(marker: bytes, *, db: Database, logs: LogCapture | None = None) -> None:
    assert marker not in stored_bytes(db), "marker found in the database"
    if logs is not None:
        assert marker.decode(errors="ignore") not in logs.text, "marker found in the logs"
