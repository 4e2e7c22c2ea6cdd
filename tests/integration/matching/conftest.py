from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.unit.matching.world import bank_images

from fulcrum.client.matching_layer import pin_trust
from fulcrum.client.sdk import FulcrumClient
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.matching import SourceListing
from fulcrum.matching.pdq import hash_pil
from fulcrum.server.matching import PlatformMatching
from fulcrum.server.routes.custodian import custodian_state

PASS = "test passphrase"
THRESHOLD = 3


@pytest.fixture(scope="module")
def matching_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    srv = EmbeddedServer(
        tmp_path_factory.mktemp("matching") / "server", roles=("relay", "custodian")
    ).start()
    custodian = custodian_state(srv.app)
    for source in ("hotline-a", "hotline-b"):
        listings = [
            SourceListing(hash_pil(img).value, source, f"{source}-{i}")
            for i, img in enumerate(bank_images()[:5])
        ]
        custodian.import_listings("demo", listings)
    custodian.publish(1, account_threshold=THRESHOLD)
    yield srv
    srv.stop()


def matching_of(srv: EmbeddedServer) -> PlatformMatching:
    found = srv.app.state.fulcrum.features["matching"]
    assert isinstance(found, PlatformMatching)
    return found


class Users:
    def __init__(self, server: EmbeddedServer, root: Path) -> None:
        self.server = server
        self.root = root
        self.clients: list[FulcrumClient] = []

    async def user(self, name: str, *, pin: bool = True) -> FulcrumClient:
        client = await FulcrumClient.register(
            self.root / name, self.server.url, name, PASS, birth_year=1990, log2_n=10
        )
        if pin:
            pin_trust(client, custodian_state(self.server.app).trust())
        self.clients.append(client)
        return client

    async def close(self) -> None:
        for client in self.clients:
            if client.home._lock is not None:
                await client.close()


@pytest.fixture
async def users(matching_server: EmbeddedServer, tmp_path: Path) -> AsyncIterator[Users]:
    u = Users(matching_server, tmp_path / "homes")
    yield u
    await u.close()
