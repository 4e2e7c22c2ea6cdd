"""A platform whose five trustees each run in their own app with their own key store: loopback
servers (``remote_council``) reached over HTTP, as separate hosts would be."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.integration.access.conftest import desk  # noqa: F401
from tests.integration.client.conftest import world  # noqa: F401

from fulcrum.access import LogTrust, default_policy
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.server.escrow import TrusteeCouncil
from fulcrum.server.loopback import LiveServer, free_port
from fulcrum.translog import CosignatureVerifier
from fulcrum.translog.note import verifier_from_vkey
from fulcrum.trustee import EpochRules, PlatformLog, create_trustee_app, token_hash
from fulcrum.trustee.keystore import TrusteeKeyStore

TOKEN = "remote-council-operator-token"
AGENCY_WARRANT_QUOTA = 2  # the trustees' own quota (the platform's in-process default is 20)


@dataclass
class RemoteCouncil:
    stores: list[TrusteeKeyStore]
    servers: list[LiveServer]
    council: TrusteeCouncil
    ahead: list[float]  # seconds the trustees' clocks run ahead of real time (ahead[0])


def trust_of(server: EmbeddedServer) -> LogTrust:
    keys = httpx.get(f"{server.url}/v1/log/keys").json()
    witnesses = tuple(CosignatureVerifier.from_vkey(k) for k in keys["witness_vkeys"])
    return LogTrust(verifier_from_vkey(keys["log_vkey"]), witnesses, 2)


PORTS = [free_port() for _ in range(5)]


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedServer]:
    """The platform, configured with a URL for every trustee: the council is remote."""
    urls = ",".join(f"{i}@http://127.0.0.1:{p}" for i, p in enumerate(PORTS, start=1))
    monkeypatch.setenv("FULCRUM_ACCESS_RETROSPECTIVE_SECONDS", "3600")
    monkeypatch.setenv("FULCRUM_ACCESS_TRUSTEES", urls)
    monkeypatch.setenv("FULCRUM_ACCESS_TRUSTEE_TOKEN", TOKEN)
    monkeypatch.setenv("FULCRUM_ACCESS_TRUSTEE_TIMEOUT", "60")
    srv = EmbeddedServer(tmp_path / "platform", roles=("relay", "log", "access")).start()
    yield srv
    srv.stop()


@pytest.fixture
def remote_council(server: EmbeddedServer, tmp_path: Path) -> Iterator[RemoteCouncil]:
    """Five trustee apps on loopback ports, each with its own store; the epoch key is made."""
    council = server.app.state.fulcrum.features["escrow"]
    assert isinstance(council, TrusteeCouncil) and council.remote
    trust = trust_of(server)
    policy = default_policy(agency_warrants=AGENCY_WARRANT_QUOTA)
    rules = EpochRules(council.policy.epoch_seconds, retention_seconds=0)  # their own rules
    ahead = [0.0]

    def clock() -> float:
        return time.time() + ahead[0]

    stores, servers = [], []
    try:
        for name, port in zip(council.policy.trustees, PORTS, strict=True):
            store = TrusteeKeyStore(tmp_path / "hosts" / name, name)
            app = create_trustee_app(store, PlatformLog(server.url, trust), token_hash(TOKEN),
                                     policy=policy, rules=rules, clock=clock)  # fmt: skip
            servers.append(LiveServer(app, port).start())
            stores.append(store)
        council.ensure_epoch(council.policy.epoch_at(time.time()))
        yield RemoteCouncil(stores, servers, council, ahead)
    finally:
        for s in servers:
            s.stop()
