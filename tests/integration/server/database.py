"""Clean databases for integration tests (re-exports ``fulcrum.server.testing`` helpers).

``fresh_postgres_url()`` is for fixtures that cannot use a context manager: it creates a new schema
in ``FULCRUM_TEST_POSTGRES_URL`` and drops it when the test process exits.
"""

from __future__ import annotations

import atexit
import contextlib
from pathlib import Path

from fulcrum.server.testing import POSTGRES_ENV, fresh_database, postgres_url

__all__ = ["POSTGRES_ENV", "fresh_database", "fresh_postgres_url", "postgres_url"]


def fresh_postgres_url() -> str:
    if postgres_url() is None:
        raise RuntimeError(f"set {POSTGRES_ENV} to run against PostgreSQL")
    stack = contextlib.ExitStack()
    url = stack.enter_context(fresh_database(Path(".")))
    atexit.register(stack.close)
    return url
