from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.integration.client.conftest import World

from fulcrum.demo.embedded import EmbeddedServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    srv = EmbeddedServer(tmp_path / "server", roles=("relay", "review")).start()
    yield srv
    srv.stop()


@pytest.fixture
async def world(server: EmbeddedServer, tmp_path: Path) -> AsyncIterator[World]:
    w = World(server, tmp_path / "homes")
    yield w
    await w.close()
