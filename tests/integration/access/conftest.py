"""A server with the access role, operator tokens, a registered judge and helpers for the
warrant workflow over HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.client.conftest import World

from fulcrum.access import SignedWarrant, Warrant, sign_warrant
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.encoding import b64e
from fulcrum.hazmat.signing import SigningKey
from fulcrum.server.access import AccessService
from fulcrum.server.access.operators import create_operator

JUDGE = SigningKey(bytes(range(32)))
JUDGE_KEY_ID = "judge-xa-1"
DAY = 86_400


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedServer]:
    monkeypatch.setenv("FULCRUM_ACCESS_RETROSPECTIVE_SECONDS", "3600")
    srv = EmbeddedServer(tmp_path / "server", roles=("relay", "log", "access")).start()
    yield srv
    srv.stop()


@pytest.fixture
async def world(server: EmbeddedServer, tmp_path: Path) -> AsyncIterator[World]:
    w = World(server, tmp_path / "homes")
    yield w
    await w.close()


@dataclass
class Desk:
    """The people around a warrant: an operator, an authority and a judge, each with a token."""

    server: EmbeddedServer
    tokens: dict[str, str]

    @property
    def service(self) -> AccessService:
        service = self.server.app.state.fulcrum.features["access"]
        assert isinstance(service, AccessService)
        return service

    def call(self, who: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.request(method, f"{self.server.url}/v1/access{path}", headers=headers,
                             timeout=60, **kw)  # fmt: skip

    def warrant(self, targets: list[str], *, serial: str = "1", start: int | None = None,
                **kw: Any) -> SignedWarrant:  # fmt: skip
        now = int(time.time())
        start = now if start is None else start
        w = Warrant.create(
            warrant_id=f"XA:police-a:{serial}", agency="police-a", jurisdiction="XA",
            legal_basis="CPC s. 100a", targets=targets, window_start=start,
            window_end=now + 7 * DAY, issued_at=now, judge_key_id=JUDGE_KEY_ID, **kw,
        )  # fmt: skip
        return sign_warrant(w, JUDGE)

    def submit(self, signed: SignedWarrant) -> httpx.Response:
        return self.call(
            "judge", "POST", "/warrants", json={"signed_warrant": b64e(signed.to_bytes())}
        )

    def activate(self, signed: SignedWarrant) -> dict[str, Any]:
        assert self.submit(signed).status_code == 200
        r = self.call("operator", "POST", f"/warrants/{signed.warrant.warrant_id}/approvals")
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture
def desk(server: EmbeddedServer) -> Desk:
    db = server.app.state.fulcrum.db
    tokens = {role: create_operator(db, f"{role}-1", role)
              for role in ("judge", "authority", "operator")}  # fmt: skip
    d = Desk(server, tokens)
    now = int(time.time())
    r = d.call("operator", "POST", "/judge-keys", json={
        "judge_key_id": JUDGE_KEY_ID, "court": "XA district court",
        "public_key": b64e(JUDGE.public_key().raw), "valid_from": now - DAY,
        "valid_until": now + 400 * DAY})  # fmt: skip
    assert r.status_code == 200, r.text
    return d
