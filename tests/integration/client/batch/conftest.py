"""The relay app fixtures of tests/integration/server (a fresh database per test, every feature
installed, an in-process httpx client)."""

from tests.integration.server.conftest import (  # noqa: F401
    api,
    db_url,
    live_api,
    live_server,
    relay,
    relay_app,
    server_settings,
)
