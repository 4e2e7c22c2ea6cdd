from __future__ import annotations

import hashlib

import pytest

from fulcrum.encoding import b64e, canonical_json
from fulcrum.server.state import RelayState

from .helpers import add_device, assert_error, dm_envelope, group_envelope, register, row_counts

pytestmark = pytest.mark.integration


async def _trio(api):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    carol = await register(api, "carol")
    r = await alice.post("/v1/groups", json={"group_id": "friends", "members": ["bob"]})
    assert r.status_code == 201, r.text
    assert r.json() == {
        "group_id": "friends",
        "members": ["alice", "bob"],
        "admins": ["alice"],
        "membership_epoch": 0,
    }
    return alice, bob, carol


async def test_group_send_fans_out_to_member_devices(api):
    alice, bob, carol = await _trio(api)
    bob2 = await add_device(bob)
    alice2 = await add_device(alice)
    env = group_envelope("friends", 0)
    assert (await alice.post("/v1/messages", json=env)).status_code == 200
    for dev in (bob, bob2, alice2):
        items = (await dev.get("/v1/queue")).json()["items"]
        assert len(items) == 1
        item = items[0]
        assert item["group"] == {"group_id": "friends", "membership_epoch": 0}
        assert item["group_ratchet"] == b64e(b"megolm-ratchet") and item["ratchet"] is None
        members_hash = hashlib.sha256(canonical_json(["alice", "bob"])).hexdigest()
        assert item["envelope"]["group"] == {
            "group_id": "friends",
            "membership_epoch": 0,
            "members_sha256": members_hash,
        }
        assert "recipients" not in item["envelope"]
    assert (await alice.get("/v1/queue")).json()["items"] == []
    assert (await carol.get("/v1/queue")).json()["items"] == []


async def test_non_member_cannot_read_or_send(api, relay: RelayState):
    _alice, _bob, carol = await _trio(api)
    assert_error(await carol.get("/v1/groups/friends"), 404, "not_found")
    before = row_counts(relay.db)
    r = await carol.post("/v1/messages", json=group_envelope("friends", 0))
    assert_error(r, 404)
    r = await carol.post("/v1/groups/friends/members", json={"add": ["carol"]})
    assert_error(r, 404)
    assert row_counts(relay.db) == before


async def test_membership_change_and_stale_epoch(api, relay: RelayState):
    alice, bob, carol = await _trio(api)
    assert_error(await bob.post("/v1/groups/friends/members", json={"add": ["carol"]}), 403)
    r = await alice.post("/v1/groups/friends/members", json={"add": ["carol"]})
    assert r.json()["membership_epoch"] == 1 and r.json()["members"] == ["alice", "bob", "carol"]
    before = row_counts(relay.db)
    assert_error(
        await bob.post("/v1/messages", json=group_envelope("friends", 0)), 409, "stale_membership"
    )
    assert row_counts(relay.db) == before
    assert (await bob.post("/v1/messages", json=group_envelope("friends", 1))).status_code == 200
    assert len((await carol.get("/v1/queue")).json()["items"]) == 1
    r = await alice.post("/v1/groups/friends/members", json={"remove": ["bob"]})
    assert r.json()["members"] == ["alice", "carol"] and r.json()["membership_epoch"] == 2
    assert_error(await bob.post("/v1/messages", json=group_envelope("friends", 2)), 404)
    assert_error(await bob.get("/v1/groups/friends"), 404)
    r = await alice.post("/v1/groups/friends/members", json={"add": ["nobody"]})
    assert_error(r, 404)


async def test_leave_group(api):
    alice, bob, _carol = await _trio(api)
    assert (await bob.delete("/v1/groups/friends/members/me")).status_code == 204
    info = (await alice.get("/v1/groups/friends")).json()
    assert info["members"] == ["alice"] and info["membership_epoch"] == 1


async def test_group_create_errors(api, relay: RelayState):
    alice, _bob, _carol = await _trio(api)
    before = row_counts(relay.db)
    r = await alice.post("/v1/groups", json={"group_id": "friends", "members": ["bob"]})
    assert_error(r, 409, "conflict")
    r = await alice.post("/v1/groups", json={"group_id": "other", "members": ["ghost"]})
    assert_error(r, 404)
    r = await alice.post("/v1/groups", json={"group_id": "Bad Id", "members": ["bob"]})
    assert_error(r, 422, "invalid_request")
    assert row_counts(relay.db) == before


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: {**e, "group_ratchet": None},
        lambda e: {**e, "group": None},
        lambda e: {**e, "group": {"group_id": "other", "membership_epoch": 0}},
        lambda e: {
            **e,
            "recipients": [{"account": "bob", "device_id": "abcdef", "type": 1, "body": ""}],
        },
    ],
)
async def test_malformed_group_sends(api, relay: RelayState, mutate):
    alice, _bob, _carol = await _trio(api)
    before = row_counts(relay.db)
    assert_error(await alice.post("/v1/messages", json=mutate(group_envelope("friends", 0))), 422)
    assert row_counts(relay.db) == before


async def test_group_control_message_to_members(api, relay: RelayState):
    alice, bob, carol = await _trio(api)
    env = dm_envelope(alice, [bob], body=b"", kind="control", conv="group:friends")
    env["body"] = ""
    assert (await alice.post("/v1/messages", json=env)).status_code == 200
    assert (await bob.get("/v1/queue")).json()["items"][0]["kind"] == "control"
    to_carol = dm_envelope(alice, [carol], body=b"", kind="control", conv="group:friends")
    to_carol["body"] = ""
    assert_error(await alice.post("/v1/messages", json=to_carol), 404)  # carol is no member
