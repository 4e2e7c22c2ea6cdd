"""POST /v1/messages:batch: per-envelope results, isolation of refusals, idempotency."""

from __future__ import annotations

import pytest

from fulcrum.server.state import RelayState
from fulcrum.store import DeliveryQueue
from fulcrum.wire.batch import MAX_BATCH

from .helpers import assert_error, dm_envelope, register, row_counts

pytestmark = pytest.mark.integration


async def test_batch_accepts_in_order_and_delivers(api, relay: RelayState):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    envs = [dm_envelope(alice, [bob], body=f"ct-{i}".encode()) for i in range(5)]
    r = await alice.post("/v1/messages:batch", json={"envelopes": envs})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["msg_id"] for x in results] == [e["msg_id"] for e in envs]
    assert all(x["status"] == 200 and x["error"] is None for x in results)
    assert all(x["receipt"]["franking"] is not None for x in results)  # same hooks as /messages
    # answered after commit: a fresh read transaction sees every queue row
    with relay.db.read() as session:
        rows, _ = DeliveryQueue(session).page(bob.device_id, after=0, limit=100)
    assert [q.msg_id for q in rows] == [e["msg_id"] for e in envs]
    page = (await bob.get("/v1/queue")).json()["items"]
    assert [i["msg_id"] for i in page] == [e["msg_id"] for e in envs]
    assert [i["server_ts"] for i in page] == [x["receipt"]["server_ts"] for x in results]


async def test_refused_envelope_changes_nothing_and_others_go_through(api, relay: RelayState):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    good = dm_envelope(alice, [bob])
    ghost = dm_envelope(alice, [bob])
    ghost["recipients"][0]["device_id"] = "no-such-device"
    unfranked = dm_envelope(alice, [bob])
    del unfranked["commitment"]
    before = row_counts(relay.db)
    r = await alice.post("/v1/messages:batch", json={"envelopes": [ghost, good, unfranked]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [404, 200, 400]
    assert results[0]["error"]["code"] == "not_found" and results[0]["receipt"] is None
    assert results[2]["error"]["code"] == "franking_required"
    after = row_counts(relay.db)
    assert after["messages"] == before["messages"] + 1 and after["queue"] == before["queue"] + 1
    items = (await bob.get("/v1/queue")).json()["items"]
    assert [i["msg_id"] for i in items] == [good["msg_id"]]


async def test_batch_is_idempotent_on_msg_id(api, relay: RelayState):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    env = dm_envelope(alice, [bob])
    first = (await alice.post("/v1/messages", json=env)).json()
    changed = {**env, "body": "b3RoZXI"}
    r = await alice.post("/v1/messages:batch", json={"envelopes": [env, env, changed]})
    results = r.json()["results"]
    assert [x["status"] for x in results] == [200, 200, 409]
    assert all(x["receipt"]["duplicate"] for x in results[:2])
    assert results[0]["receipt"]["server_ts"] == first["server_ts"]
    assert results[0]["receipt"]["franking"] == first["franking"]
    assert len((await bob.get("/v1/queue")).json()["items"]) == 1


async def test_batch_limits_and_auth(api, relay: RelayState):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    before = row_counts(relay.db)
    assert_error(await api.post("/v1/messages:batch", json={"envelopes": []}), 401)
    assert_error(await alice.post("/v1/messages:batch", json={"envelopes": []}), 422)
    many = [dm_envelope(alice, [bob]) for _ in range(MAX_BATCH + 1)]
    assert_error(await alice.post("/v1/messages:batch", json={"envelopes": many}), 422)
    bad = [dm_envelope(alice, [bob]), {"msg_id": "x"}]
    assert_error(await alice.post("/v1/messages:batch", json={"envelopes": bad}), 422)
    assert row_counts(relay.db) == before
