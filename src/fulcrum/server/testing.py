"""Test support: a clean database per test and a real uvicorn server on loopback.

Used by the server's integration tests and reusable by any other suite (client end-to-end tests)::

    with fresh_database(tmp_path) as url:
        settings = make_test_settings(tmp_path, url)
        with LiveServer(create_app(settings)) as server:
            httpx.get(server.url + "/v1/health")

With ``FULCRUM_TEST_POSTGRES_URL`` set (``postgresql+psycopg://...``), ``fresh_database`` creates a
new schema per call and drops it afterwards; otherwise it is a new SQLite file in ``tmp_path``.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fulcrum.server.settings import ServerSettings

POSTGRES_ENV = "FULCRUM_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database (SQLite file, or a fresh PostgreSQL schema)."""
    base = postgres_url()
    if base is None:
        yield f"sqlite:///{tmp_path / 'fulcrum-test.db'}"
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def make_test_settings(tmp_path: Path, db_url: str, **overrides: object) -> ServerSettings:
    """Development settings with the data dir in ``tmp_path`` (ignores FULCRUM_* variables)."""
    values: dict[str, object] = {
        "environment": "development",
        "data_dir": tmp_path / "data",
        "db_url": db_url,
        "roles": ("relay",),
    }
    values.update(overrides)
    return ServerSettings.model_validate(values)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a background thread."""

    def __init__(self, app: FastAPI, port: int | None = None) -> None:
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", ws="auto"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout: float = 10.0) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
