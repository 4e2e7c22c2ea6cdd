"""Five trustee apps (each with its own key store dir) and a platform that only coordinates."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from fulcrum.access import LogTrust
from fulcrum.escrow import TrusteeShare
from fulcrum.hazmat.signing import SigningKey
from fulcrum.server.escrow import (
    DkgCoordinator,
    DkgPeer,
    EscrowPolicy,
    TrusteeCouncil,
    TrusteeRoster,
)
from fulcrum.server.translog import TransparencyLog, open_log
from fulcrum.store import Database
from fulcrum.translog import CosignatureSigner, LogEntry, NoteSigner, parse_entry
from fulcrum.trustee import EpochRules, PlatformLog, TrusteeDkg, create_trustee_app, token_hash
from fulcrum.trustee.keystore import TrusteeKeyStore

TOKEN = "dkg-test-operator-token"
POLICY = EscrowPolicy(n=5, t=3, epoch_seconds=3600, retention_seconds=0,
                      trustees=tuple(f"trustee-{i}" for i in range(1, 6)))  # fmt: skip
RULES = EpochRules(POLICY.epoch_seconds, POLICY.retention_seconds)  # the trustees' own rules


class LocalLog:
    """The trustees' read of the platform's log, straight from its store (the HTTP reads and
    their verification under pinned keys are ``PlatformLog``'s, tested with a live platform)."""

    def __init__(self, log: TransparencyLog) -> None:
        self.log = log
        self.down = False

    def snapshot(self) -> tuple[LogEntry, ...]:
        if self.down:
            raise ValueError("platform log unreachable")
        return tuple(parse_entry(e) for e in self.log.entries(0, self.log.size()))


class RecordingTransport(httpx.AsyncBaseTransport):
    """An ASGI transport that keeps every request and response body the platform handled."""

    def __init__(self, app: FastAPI, seen: list[bytes]) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.seen = seen
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("trustee is down", request=request)
        self.seen.append(request.read())
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.seen.append(body)
        return httpx.Response(response.status_code, headers=response.headers, content=body)


@dataclass
class Platform:
    root: Path
    db: Database
    log: TransparencyLog
    council: TrusteeCouncil
    stores: list[TrusteeKeyStore]
    apps: list[FastAPI]
    transports: list[RecordingTransport]
    reader: LocalLog
    seen: list[bytes] = field(default_factory=list)

    def shares(self, epoch: int) -> list[TrusteeShare]:
        return [s.share(epoch) for s in self.stores if s.has_share(epoch)]

    def platform_bytes(self) -> Iterator[bytes]:
        """Every file under the platform's data dir (the SQLite database included)."""
        for path in sorted((self.root / "platform").rglob("*")):
            if path.is_file():
                yield path.read_bytes()


def unreachable_log() -> PlatformLog:
    key = SigningKey.generate()
    witness = CosignatureSigner("w.example", SigningKey.generate()).verifier()
    return PlatformLog(
        "http://127.0.0.1:9", LogTrust(NoteSigner("x", key).verifier(), (witness,), 1)
    )


def build(root: Path, tamper: Callable[[int, FastAPI], Any] | None = None) -> Platform:
    data = root / "platform"
    data.mkdir(parents=True, exist_ok=True)
    db = Database.connect(f"sqlite:///{data / 'fulcrum.db'}")
    db.migrate()
    log = open_log(data, db, remote="", in_process=3)
    seen: list[bytes] = []
    reader = LocalLog(log)
    stores, apps, transports, peers = [], [], [], []
    for i, name in enumerate(POLICY.trustees, start=1):
        store = TrusteeKeyStore(root / "hosts" / name, name)
        dkg = TrusteeDkg(store, rules=RULES, log=reader)
        app = create_trustee_app(store, unreachable_log(), token_hash(TOKEN), dkg=dkg, rules=RULES)
        if tamper is not None:
            tamper(i, app)
        transport = RecordingTransport(app, seen)
        stores.append(store)
        apps.append(app)
        transports.append(transport)
        peers.append(DkgPeer(i, name, f"http://{name}", TOKEN, transport))
    roster = TrusteeRoster(data / "escrow" / "roster.json")
    coordinator = DkgCoordinator(peers, POLICY.t, roster, timeout=30)
    council = TrusteeCouncil(POLICY, data / "escrow", log, coordinator=coordinator)
    return Platform(root, db, log, council, stores, apps, transports, reader, seen)
