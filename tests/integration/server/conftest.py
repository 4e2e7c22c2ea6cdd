"""Fixtures: a clean database per test (SQLite, or PostgreSQL with FULCRUM_TEST_POSTGRES_URL),
the relay app, an in-process httpx client, and a real uvicorn server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from fulcrum.server import ServerSettings, create_app
from fulcrum.server.state import RelayState, relay_state
from fulcrum.server.testing import LiveServer, fresh_database, make_test_settings


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def server_settings(tmp_path: Path, db_url: str) -> ServerSettings:
    return make_test_settings(tmp_path, db_url, max_attachment_bytes=64 * 1024)


@pytest.fixture
def relay_app(server_settings: ServerSettings) -> Iterator[FastAPI]:
    app = create_app(server_settings)
    yield app
    relay_state(app).db.dispose()


@pytest.fixture
def relay(relay_app: FastAPI) -> RelayState:
    return relay_state(relay_app)


@pytest.fixture
async def api(relay_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=relay_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
        yield client


@pytest.fixture
def live_server(server_settings: ServerSettings) -> Iterator[LiveServer]:
    app = create_app(server_settings)
    with LiveServer(app) as server:
        yield server
    relay_state(app).db.dispose()


@pytest.fixture
async def live_api(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        yield client
