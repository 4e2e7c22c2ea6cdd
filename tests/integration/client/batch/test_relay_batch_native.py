"""The batch-native send path against the real app (every feature's hooks installed): per-envelope
answers as single sends give them, duplicates inside a batch, the envelope-by-envelope replay on a
hook refusal, fetch and ack ownership."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from tests.integration.server.helpers import assert_error, dm_envelope, register, row_counts
from websockets.asyncio.client import connect

import fulcrum.server.relay.messages as relay_messages
from fulcrum.encoding import b64d
from fulcrum.server.state import RelayState
from fulcrum.server.testing import LiveServer
from fulcrum.store import DeliveryQueue
from fulcrum.store.safety import SqlSafetyStore

pytestmark = pytest.mark.integration

KID_YEAR = 2016  # a minor: adults may not open a chat with one


@pytest.fixture
def replays(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the batches that fell back to the envelope-by-envelope path."""
    calls: list[int] = []
    exact = relay_messages.accept_batch

    def counted(session: Any, envelopes: Any, *args: Any) -> Any:
        calls.append(len(envelopes))
        return exact(session, envelopes, *args)

    monkeypatch.setattr(relay_messages, "accept_batch", counted)
    return calls


async def test_clean_batch_takes_the_native_path_and_stores_tags(api, relay: RelayState, replays):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    envs = [dm_envelope(alice, [bob], body=f"ct-{i}".encode()) for i in range(7)]
    r = await alice.post("/v1/messages:batch", json={"envelopes": envs})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert replays == []  # no refusal: answered by the native path alone
    assert [x["status"] for x in results] == [200] * 7
    stamps = [x["receipt"]["server_ts"] for x in results]
    assert stamps == sorted(stamps)
    items = (await bob.get("/v1/queue")).json()["items"]
    assert [i["msg_id"] for i in items] == [e["msg_id"] for e in envs]
    assert [b64d(i["body"]) for i in items] == [f"ct-{i}".encode() for i in range(7)]
    # the franking tag is written with the row and delivered as the sender was told
    assert [i["franking"] for i in items] == [x["receipt"]["franking"] for x in results]
    assert all(i["franking"] is not None for i in items)


async def test_mixed_batch_each_refusal_typed_and_the_rest_delivered(
    api, relay: RelayState, replays
):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    kid = await register(api, "kid", birth_year=KID_YEAR)
    first, last = dm_envelope(alice, [bob]), dm_envelope(alice, [bob])
    to_kid = dm_envelope(alice, [kid])  # refused by minor protection (a hook)
    ghost = dm_envelope(alice, [bob])
    ghost["recipients"][0]["device_id"] = "no-such-device"  # refused by the relay's own checks
    before = row_counts(relay.db)
    r = await alice.post("/v1/messages:batch", json={"envelopes": [first, to_kid, ghost, last]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [200, 403, 404, 200]
    assert results[1]["error"]["code"] == "safety_refused" and results[1]["receipt"] is None
    assert results[2]["error"]["code"] == "not_found"
    assert replays == [4]  # the hook refusal replayed the batch envelope by envelope
    after = row_counts(relay.db)
    assert after["messages"] - before["messages"] == 2
    items = (await bob.get("/v1/queue")).json()["items"]
    assert [i["msg_id"] for i in items] == [first["msg_id"], last["msg_id"]]
    assert (await kid.get("/v1/queue")).json()["items"] == []
    # the same envelope alone gets the same answer
    alone = await alice.post("/v1/messages", json=dm_envelope(alice, [kid]))
    assert_error(alone, 403, "safety_refused")


async def test_only_relay_check_refusals_need_no_replay(api, relay: RelayState, replays):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    good = dm_envelope(alice, [bob])
    ghost = dm_envelope(alice, [bob])
    ghost["recipients"][0]["device_id"] = "no-such-device"
    stranger = dm_envelope(alice, [bob], conv="dm:bob:carol")  # alice is not a party
    r = await alice.post("/v1/messages:batch", json={"envelopes": [ghost, good, stranger]})
    assert [x["status"] for x in r.json()["results"]] == [404, 200, 403]
    assert replays == []
    assert [i["msg_id"] for i in (await bob.get("/v1/queue")).json()["items"]] == [good["msg_id"]]


async def test_duplicate_ids_inside_one_batch(api, relay: RelayState, replays):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    a, b = dm_envelope(alice, [bob]), dm_envelope(alice, [bob])
    changed = {**a, "body": "b3RoZXI"}  # same msg_id, other content
    ghost_then_real = dm_envelope(alice, [bob])
    ghost = {**ghost_then_real, "recipients": [{**ghost_then_real["recipients"][0],
                                                "device_id": "nope"}]}  # fmt: skip
    batch = [a, b, a, changed, ghost, ghost_then_real, b]
    r = await alice.post("/v1/messages:batch", json={"envelopes": batch})
    results = r.json()["results"]
    assert [x["status"] for x in results] == [200, 200, 200, 409, 404, 200, 200]
    assert [x["receipt"]["duplicate"] for x in results if x["status"] == 200] == [
        False, False, True, False, True
    ]  # fmt: skip
    assert results[2]["receipt"]["server_ts"] == results[0]["receipt"]["server_ts"]
    assert results[2]["receipt"]["franking"] == results[0]["receipt"]["franking"]
    assert results[6]["receipt"]["franking"] == results[1]["receipt"]["franking"]
    assert results[3]["error"]["code"] == "conflict"
    assert replays == []
    items = (await bob.get("/v1/queue")).json()["items"]
    assert [i["msg_id"] for i in items] == [a["msg_id"], b["msg_id"], ghost_then_real["msg_id"]]
    # and across batches: the whole batch again is all duplicates, nothing new queued
    again = (await alice.post("/v1/messages:batch", json={"envelopes": [a, b]})).json()
    assert [x["receipt"]["duplicate"] for x in again["results"]] == [True, True]
    assert len((await bob.get("/v1/queue")).json()["items"]) == 3


async def test_batch_records_minor_protection_signals_like_single_sends(
    api, relay: RelayState, replays
):
    """A new adult account's first contacts are counted (rule 3's denominator) on the batch path
    as on single sends, once per contacted account."""
    alice, bob = await register(api, "alice"), await register(api, "bob")
    carol, dave = await register(api, "carol"), await register(api, "dave")
    envs = [dm_envelope(alice, [bob]), dm_envelope(alice, [carol]), dm_envelope(alice, [bob])]
    r = await alice.post("/v1/messages:batch", json={"envelopes": envs})
    assert [x["status"] for x in r.json()["results"]] == [200, 200, 200] and replays == []
    for env in (dm_envelope(dave, [bob]), dm_envelope(dave, [carol]), dm_envelope(dave, [bob])):
        assert (await dave.post("/v1/messages", json=env)).status_code == 200
    with relay.db.read() as session:
        store = SqlSafetyStore(session)
        batched, single = store.signals("alice"), store.signals("dave")
    assert batched is not None and single is not None
    assert batched.initiated == single.initiated == {"bob", "carol"}


async def test_ack_of_a_foreign_seq_refuses_the_lot(api, relay: RelayState):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    carol = await register(api, "carol")
    envs = [dm_envelope(alice, [bob]), dm_envelope(alice, [carol]), dm_envelope(alice, [bob])]
    await alice.post("/v1/messages:batch", json={"envelopes": envs})
    bob_seqs = [i["seq"] for i in (await bob.get("/v1/queue")).json()["items"]]
    carol_seqs = [i["seq"] for i in (await carol.get("/v1/queue")).json()["items"]]
    assert len(bob_seqs) == 2 and len(carol_seqs) == 1
    assert_error(await bob.post("/v1/queue/ack", json={"seqs": [*bob_seqs, *carol_seqs]}), 403)
    assert_error(await bob.post("/v1/queue/ack", json={"seqs": [10**9]}), 403)  # no such seq
    # nothing was acked: both queues are whole, and carol's ciphertext is still there
    assert [i["seq"] for i in (await bob.get("/v1/queue")).json()["items"]] == bob_seqs
    carol_items = (await carol.get("/v1/queue")).json()["items"]
    assert [i["seq"] for i in carol_items] == carol_seqs and carol_items[0]["body"]
    ok = (await bob.post("/v1/queue/ack", json={"seqs": bob_seqs})).json()
    assert ok["acked"] == 2
    with relay.db.read() as session:
        assert DeliveryQueue(session).pending_count(bob.device_id) == 0
        assert DeliveryQueue(session).pending_count(carol.device_id) == 1


async def test_one_push_per_device_per_batch_with_its_newest_seq(
    live_server: LiveServer, live_api: httpx.AsyncClient
):
    alice, bob = await register(live_api, "alice"), await register(live_api, "bob")
    carol = await register(live_api, "carol")
    url = live_server.ws_url + "/v1/ws"
    async with (
        connect(url, additional_headers=bob.headers, open_timeout=5) as bob_ws,
        connect(url, additional_headers=carol.headers, open_timeout=5) as carol_ws,
    ):
        for ws in (bob_ws, carol_ws):
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "hello"
        envs = [dm_envelope(alice, [bob]) for _ in range(5)] + [dm_envelope(alice, [carol])]
        r = await alice.post("/v1/messages:batch", json={"envelopes": envs})
        assert [x["status"] for x in r.json()["results"]] == [200] * 6
        for dev, ws, count in ((bob, bob_ws, 5), (carol, carol_ws, 1)):
            event = json.loads(await asyncio.wait_for(ws.recv(), 5))
            items = (await dev.get("/v1/queue")).json()["items"]
            assert len(items) == count
            assert event == {"type": "queued", "seq": items[-1]["seq"]}
            with pytest.raises(TimeoutError):  # and nothing more for this batch
                await asyncio.wait_for(ws.recv(), 0.3)


async def test_a_refusal_inside_a_batch_keeps_its_bookkeeping_like_a_single_send(
    api, relay: RelayState, replays
):
    """The rule's audit record and counters of a refused envelope survive the rollback of that
    envelope, in a batch as for a single send (the refused message itself is not stored)."""
    alice, dave, bob = [await register(api, n) for n in ("alice", "dave", "bob")]
    kid = await register(api, "kid", birth_year=KID_YEAR)
    envs = [dm_envelope(alice, [bob]), dm_envelope(alice, [kid]), dm_envelope(alice, [bob])]
    r = await alice.post("/v1/messages:batch", json={"envelopes": envs})
    assert [x["status"] for x in r.json()["results"]] == [200, 403, 200]
    assert replays == [3]
    alone = await dave.post("/v1/messages", json=dm_envelope(dave, [kid]))
    assert_error(alone, 403, "safety_refused")
    with relay.db.read() as session:
        store = SqlSafetyStore(session)
        batched, single = store.decisions_about("alice"), store.decisions_about("dave")
    assert len(batched) == len(single) >= 1
    assert [d.rule_id for d in batched] == [d.rule_id for d in single]
    assert (await kid.get("/v1/queue")).json()["items"] == []
