from __future__ import annotations

import hashlib

import pytest

from fulcrum.encoding import b64d, b64e
from fulcrum.server.hooks import SendRefused
from fulcrum.server.state import RelayState
from fulcrum.wire.api import FrankingTag

from .helpers import add_device, assert_error, dm_envelope, register, row_counts
from .scan import LogCapture, stored_bytes

pytestmark = pytest.mark.integration


async def test_dm_send_fetch_ack(api):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    alice2 = await add_device(alice)
    env = dm_envelope(alice, [bob, alice2], body=b"ct-1", commitment=b64e(b"c" * 32))
    r = await alice.post("/v1/messages", json=env)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["msg_id"] == env["msg_id"] and receipt["duplicate"] is False

    page = (await bob.get("/v1/queue")).json()
    assert page["more"] is False and len(page["items"]) == 1
    item = page["items"][0]
    assert item["sender"] == "alice" and item["sender_device"] == alice.device_id
    assert b64d(item["body"]) == b"ct-1" and item["commitment"] == b64e(b"c" * 32)
    assert item["ratchet"]["device_id"] == bob.device_id
    assert item["server_ts"] == receipt["server_ts"]
    expected_env = {
        "sender": "alice",
        "sender_device": alice.device_id,
        "recipients": sorted([f"bob/{bob.device_id}", f"alice/{alice2.device_id}"]),
        "conv": "dm:alice:bob",
        "msg_id": env["msg_id"],
        "server_ts": receipt["server_ts"],
        "ct_sha256": hashlib.sha256(b"ct-1").hexdigest(),
    }
    relay_env = {k: v for k, v in item["envelope"].items() if k != "franking"}
    assert relay_env == expected_env and item["envelope"]["franking"]["conv"] == env["conv"]
    assert len((await alice2.get("/v1/queue")).json()["items"]) == 1
    assert (await alice.get("/v1/queue")).json()["items"] == []  # not to the sending device

    r = await bob.post("/v1/queue/ack", json={"seqs": [item["seq"]]})
    assert r.json() == {"acked": 1}
    assert (await bob.get("/v1/queue")).json()["items"] == []
    assert (await bob.post("/v1/queue/ack", json={"seqs": [item["seq"]]})).json() == {"acked": 0}


async def test_queue_paging(api):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    for _ in range(5):
        assert (await alice.post("/v1/messages", json=dm_envelope(alice, [bob]))).status_code == 200
    first = (await bob.get("/v1/queue", params={"limit": 2})).json()
    assert len(first["items"]) == 2 and first["more"] is True
    after = first["items"][-1]["seq"]
    rest = (await bob.get("/v1/queue", params={"limit": 10, "after": after})).json()
    assert len(rest["items"]) == 3 and rest["more"] is False
    seqs = [i["seq"] for i in first["items"] + rest["items"]]
    assert seqs == sorted(seqs)
    assert_error(await bob.get("/v1/queue", params={"limit": 0}), 422, "invalid_request")


async def test_idempotent_send(api, relay: RelayState):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    env = dm_envelope(alice, [bob])
    first = (await alice.post("/v1/messages", json=env)).json()
    before = row_counts(relay.db)
    again = await alice.post("/v1/messages", json=env)
    assert again.status_code == 200
    assert again.json() == {**first, "duplicate": True}
    assert row_counts(relay.db) == before
    changed = {**env, "body": b64e(b"something else")}
    assert_error(await alice.post("/v1/messages", json=changed), 409, "conflict")
    assert row_counts(relay.db) == before
    assert len((await bob.get("/v1/queue")).json()["items"]) == 1


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda e, a, b: {**e, "conv": "dm:bob:alice"}, 422),
        (lambda e, a, b: {**e, "conv": "dm:bob:carol"}, 403),
        (lambda e, a, b: {**e, "conv": "dm:alice"}, 422),
        (lambda e, a, b: {**e, "recipients": []}, 422),
        (lambda e, a, b: {**e, "recipients": [{**e["recipients"][0], "device_id": a}]}, 422),
        (lambda e, a, b: {**e, "recipients": [{**e["recipients"][0], "device_id": "zzzzzz"}]}, 404),
        (lambda e, a, b: {**e, "recipients": e["recipients"] * 2}, 422),
        (lambda e, a, b: {**e, "body": "not base64!"}, 422),
        (lambda e, a, b: {**e, "body": "QQ="}, 422),
        (lambda e, a, b: {**e, "msg_id": "short"}, 422),
        (lambda e, a, b: {**e, "unknown": 1}, 422),
        (lambda e, a, b: {**e, "kind": "control"}, 422),  # control messages carry no body
        (lambda e, a, b: {**e, "group_ratchet": b64e(b"x")}, 422),
        (lambda e, a, b: {**e, "attachments": ["nope"]}, 404),
    ],
)
async def test_invalid_sends_change_nothing(api, relay: RelayState, mutate, status):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    await register(api, "carol")
    before = row_counts(relay.db)
    env = mutate(dm_envelope(alice, [bob]), alice.device_id, bob.device_id)
    assert_error(await alice.post("/v1/messages", json=env), status)
    assert row_counts(relay.db) == before


async def test_recipient_of_third_account_refused(api, relay: RelayState):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    carol = await register(api, "carol")
    before = row_counts(relay.db)
    env = dm_envelope(alice, [bob])
    env["recipients"].append(
        {**env["recipients"][0], "account": "carol", "device_id": carol.device_id}
    )
    assert_error(await alice.post("/v1/messages", json=env), 404, "not_found")
    assert row_counts(relay.db) == before


async def test_control_message(api):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    env = dm_envelope(alice, [bob], body=b"", kind="control")
    env["body"] = ""
    assert (await alice.post("/v1/messages", json=env)).status_code == 200
    item = (await bob.get("/v1/queue")).json()["items"][0]
    assert item["kind"] == "control" and item["ratchet"]["body"] == b64e(b"olm")


async def test_queue_isolation_and_ack_all_or_nothing(api, relay: RelayState):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    carol = await register(api, "carol")
    await alice.post("/v1/messages", json=dm_envelope(alice, [bob]))
    await alice.post("/v1/messages", json=dm_envelope(alice, [carol]))
    bob_seq = (await bob.get("/v1/queue")).json()["items"][0]["seq"]
    carol_seq = (await carol.get("/v1/queue")).json()["items"][0]["seq"]
    assert (await carol.get("/v1/queue")).json()["items"][0]["sender"] == "alice"
    before = row_counts(relay.db)
    assert_error(await carol.post("/v1/queue/ack", json={"seqs": [bob_seq]}), 403, "forbidden")
    r = await carol.post("/v1/queue/ack", json={"seqs": [carol_seq, bob_seq]})
    assert_error(r, 403, "forbidden")
    assert_error(await carol.post("/v1/queue/ack", json={"seqs": [10**9]}), 403)
    assert_error(await carol.post("/v1/queue/ack", json={"seqs": []}), 422)
    assert row_counts(relay.db) == before
    assert len((await bob.get("/v1/queue")).json()["items"]) == 1
    assert len((await carol.get("/v1/queue")).json()["items"]) == 1
    assert_error(await api.get("/v1/queue"), 401)
    assert_error(await api.post("/v1/queue/ack", json={"seqs": [bob_seq]}), 401)


class Franker:
    def __init__(self) -> None:
        self.refuse = False
        self.seen: list[dict] = []

    def before_accept(self, ctx) -> None:
        self.seen.append(dict(ctx.env))
        if self.refuse:
            raise SendRefused("blocked", "refused by a rule")

    def after_accept(self, ctx, receipt):
        return receipt.model_copy(update={"franking": FrankingTag(kid="k1", tag=b64e(b"t" * 32))})


async def test_send_hooks(api, relay: RelayState):
    hook = Franker()
    relay.hooks.send.append(hook)
    alice, bob = await register(api, "alice"), await register(api, "bob")
    env = dm_envelope(alice, [bob])
    receipt = (await alice.post("/v1/messages", json=env)).json()
    assert receipt["franking"] == {"kid": "k1", "tag": b64e(b"t" * 32)}
    assert hook.seen[0]["msg_id"] == env["msg_id"]
    again = (await alice.post("/v1/messages", json=env)).json()
    assert again["franking"] == receipt["franking"] and again["duplicate"]
    item = (await bob.get("/v1/queue")).json()["items"][0]
    assert item["franking"] == receipt["franking"]
    hook.refuse = True
    before = row_counts(relay.db)
    assert_error(await alice.post("/v1/messages", json=dm_envelope(alice, [bob])), 403, "blocked")
    assert row_counts(relay.db) == before


async def test_no_marker_in_db_or_logs(api, relay: RelayState):
    marker = b"PLAINTEXT-MARKER-7f3a"
    with LogCapture() as logs:
        alice, bob = await register(api, "alice"), await register(api, "bob")
        # the relay only ever sees ciphertext; here we check the token and ids never leak in logs
        r = await alice.post("/v1/messages", json=dm_envelope(alice, [bob]))
        assert r.status_code == 200
        await bob.get("/v1/queue")
    assert marker not in stored_bytes(relay.db)
    assert alice.token not in logs.text and bob.token not in logs.text
    assert '"route":"/v1/messages"' in logs.text and '"account":"alice"' in logs.text


async def test_metrics(api):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    await alice.post("/v1/messages", json=dm_envelope(alice, [bob]))
    text = (await api.get("/metrics")).text
    assert 'fulcrum_messages_accepted_total{kind="message"} 1.0' in text
    assert "fulcrum_queue_depth 1.0" in text
    assert 'route="/v1/messages"' in text
