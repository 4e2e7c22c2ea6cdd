"""Engines, sessions and migrations.

SQLite (the embedded default) runs in WAL mode with foreign keys on, a busy timeout, a 16 MiB
page cache per connection, memory-mapped reads and ``synchronous=NORMAL`` by default: a commit
survives a crash of the server process, but an OS crash or power loss can undo the last commits
(``synchronous="FULL"``, setting ``FULCRUM_SQLITE_SYNCHRONOUS=FULL``, syncs the WAL on every
commit). Write transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue on the
busy timeout instead of failing on a lock upgrade. PostgreSQL is used through
``postgresql+psycopg://`` URLs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_ID = 0x46554C4352  # "FULCR": serialises concurrent upgrades on PostgreSQL


class StoreError(RuntimeError):
    """The database is unreachable or its schema cannot be brought up to date."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str, *, busy_timeout_ms: int = 10_000, pool_size: int = 20, synchronous: str = "NORMAL"
) -> Engine:
    """An engine for ``url`` with the pragmas and pool settings Fulcrum relies on."""
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise StoreError(f"SQLite synchronous must be one of {SQLITE_SYNCHRONOUS}")
    if is_sqlite(url):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _install_sqlite_events(engine, busy_timeout_ms, synchronous)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


SQLITE_SYNCHRONOUS = ("NORMAL", "FULL")


def _install_sqlite_events(engine: Engine, busy_timeout_ms: int, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA cache_size=-16384")  # KiB: 16 MiB per connection
        cur.execute("PRAGMA mmap_size=268435456")  # 256 MiB of the file mapped for reads
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass(frozen=True)
class Database:
    """One engine and the two kinds of session the repositories use."""

    engine: Engine
    reader: sessionmaker[Session]
    writer: sessionmaker[Session]
    # SQLite has one writer at a time; queueing writers on a lock here avoids SQLite's busy
    # handler, which sleeps in growing steps while another connection holds the write lock.
    write_lock: threading.Lock | None = field(default=None, repr=False)

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 20, synchronous: str = "NORMAL") -> Database:
        engine = make_engine(url, pool_size=pool_size, synchronous=synchronous)
        write_engine = engine.execution_options(sqlite_immediate=True)
        return cls(
            engine=engine,
            reader=sessionmaker(engine, expire_on_commit=False),
            writer=sessionmaker(write_engine, expire_on_commit=False),
            write_lock=threading.Lock() if engine.dialect.name == "sqlite" else None,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.reader() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        if self.write_lock is None:
            with self.writer() as session, session.begin():
                yield session
            return
        with self.write_lock, self.writer() as session, session.begin():
            yield session

    def migrate(self) -> None:
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply every pending migration (programmatic Alembic; no alembic.ini needed)."""
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_ID})
            command.upgrade(alembic_config(conn), revision)
    except Exception as exc:  # surface one clear error at startup
        raise StoreError(f"database migration failed: {type(exc).__name__}: {exc}") from exc


def current_heads(engine: Engine) -> tuple[str, ...]:
    """The applied revision of every migration branch (features may add their own branches)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
