from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from fulcrum.client.sdk import FulcrumClient
from fulcrum.demo.embedded import EmbeddedServer

PASS = "test passphrase"


def backends() -> list[str]:
    out = ["sqlite"]
    if os.environ.get("FULCRUM_TEST_POSTGRES_URL"):
        out.append("postgres")
    return out


@pytest.fixture(params=backends())
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmbeddedServer]:
    db_url = None
    if request.param == "postgres":
        from tests.integration.server.database import fresh_postgres_url

        db_url = fresh_postgres_url()
    srv = EmbeddedServer(tmp_path / "server", db_url=db_url).start()
    yield srv
    srv.stop()


class World:
    def __init__(self, server: EmbeddedServer, root: Path) -> None:
        self.server = server
        self.root = root
        self.clients: list[FulcrumClient] = []

    async def user(self, name: str, **kw: object) -> FulcrumClient:
        kw.setdefault("birth_year", 1990)  # an adult unless a test says otherwise
        client = await FulcrumClient.register(
            self.root / name,
            self.server.url,
            name,
            PASS,
            log2_n=10,
            **kw,  # type: ignore[arg-type]
        )
        self.clients.append(client)
        return client

    async def close(self) -> None:
        for client in self.clients:
            if client.home._lock is not None:
                await client.close()


@pytest.fixture
async def world(server: EmbeddedServer, tmp_path: Path) -> AsyncIterator[World]:
    w = World(server, tmp_path / "homes")
    yield w
    await w.close()
