"""Through a real uvicorn server on loopback: WebSocket push, restart durability, concurrency."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from fulcrum.server import ServerSettings, create_app
from fulcrum.server.state import relay_state
from fulcrum.server.testing import LiveServer

from .helpers import dm_envelope, register

pytestmark = pytest.mark.integration


async def test_websocket_push(live_server: LiveServer, live_api: httpx.AsyncClient):
    alice, bob = await register(live_api, "alice"), await register(live_api, "bob")
    await alice.post("/v1/messages", json=dm_envelope(alice, [bob]))
    url = live_server.ws_url + "/v1/ws"
    async with connect(url, additional_headers=bob.headers, open_timeout=5) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert hello == {"type": "hello", "unacked": 1}
        r = await alice.post("/v1/messages", json=dm_envelope(alice, [bob]))
        assert r.status_code == 200
        event = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert event["type"] == "queued"
        items = (await bob.get("/v1/queue")).json()["items"]
        assert event["seq"] == items[-1]["seq"]
    metrics = (await live_api.get("/metrics")).text
    assert 'route="/v1/ws"' in metrics


async def test_websocket_requires_token(live_server: LiveServer):
    url = live_server.ws_url + "/v1/ws"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        with pytest.raises(InvalidStatus) as info:
            async with connect(url, additional_headers=headers, open_timeout=5):
                pass
        assert info.value.response.status_code == 401


async def test_queue_survives_restart(server_settings: ServerSettings):
    app = create_app(server_settings)
    with LiveServer(app) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            alice, bob = await register(client, "alice"), await register(client, "bob")
            env = dm_envelope(alice, [bob])
            receipt = (await alice.post("/v1/messages", json=env)).json()
    relay_state(app).db.dispose()

    app2 = create_app(server_settings)  # same database, fresh process state
    with LiveServer(app2) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            bob.client = client
            alice.client = client
            items = (await bob.get("/v1/queue")).json()["items"]
            assert [i["msg_id"] for i in items] == [env["msg_id"]]
            again = (await alice.post("/v1/messages", json=env)).json()
            assert again["duplicate"] and again["server_ts"] == receipt["server_ts"]
    relay_state(app2).db.dispose()


async def test_concurrent_claims_over_http(live_api: httpx.AsyncClient):
    alice = await register(live_api, "alice", otks=25, fallback=False)
    claimers = [await register(live_api, f"u{i}") for i in range(5)]
    ref = {"devices": [{"account": "alice", "device_id": alice.device_id}]}
    calls = [c.post("/v1/keys/claim", json=ref) for c in claimers for _ in range(8)]
    results = await asyncio.gather(*calls)
    assert all(r.status_code == 200 for r in results)
    keys = [k["key_id"] for r in results for k in r.json()["keys"]]
    assert len(keys) == 25 and len(set(keys)) == 25


async def test_concurrent_duplicate_sends(live_api: httpx.AsyncClient):
    alice, bob = await register(live_api, "alice"), await register(live_api, "bob")
    env = dm_envelope(alice, [bob])
    results = await asyncio.gather(*(alice.post("/v1/messages", json=env) for _ in range(10)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert sum(not r.json()["duplicate"] for r in results) == 1
    assert len({r.json()["server_ts"] for r in results}) == 1
    assert len((await bob.get("/v1/queue")).json()["items"]) == 1
