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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fulcrum.server.loopback import LiveServer as LiveServer  # re-exported for tests
from fulcrum.server.loopback import free_port as free_port
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
