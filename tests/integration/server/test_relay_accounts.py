from __future__ import annotations

import asyncio

import pytest
import vodozemac

from fulcrum.server.state import RelayState
from fulcrum.wire.statements import device_key_statement

from .helpers import add_device, assert_error, device_keys, fake_key, register, row_counts

pytestmark = pytest.mark.integration


async def test_health(api):
    r = await api.get("/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["roles"] == ["relay"]


async def test_create_account_and_list_devices(api):
    alice = await register(api, "alice")
    phone = await add_device(alice)
    bob = await register(api, "bob")
    r = await bob.get("/v1/accounts/alice/devices")
    assert r.status_code == 200
    ids = {d["device_id"] for d in r.json()["devices"]}
    assert ids == {alice.device_id, phone.device_id}
    assert_error(await bob.get("/v1/accounts/nobody/devices"), 404, "not_found")


async def test_vodozemac_signed_registration(api):
    account = vodozemac.Account()
    identity, signing = account.curve25519_key.to_base64(), account.ed25519_key.to_base64()
    sig = account.sign(device_key_statement("carol", identity, signing)).to_base64()
    account.generate_one_time_keys(2)
    otks = {k: v.to_base64() for k, v in account.one_time_keys.items()}
    device = {
        "identity_key": identity,
        "signing_key": signing,
        "one_time_keys": otks,
        "signature": sig,
    }
    r = await api.post("/v1/accounts", json={"name": "carol", "device": device})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    r = await api.get("/v1/keys/count", headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"one_time_keys": 2}


async def test_token_stored_only_as_hash(api, relay: RelayState):
    from .scan import stored_bytes

    alice = await register(api, "alice")
    assert alice.token.encode() not in stored_bytes(relay.db)


async def test_bad_signature_refused_and_nothing_stored(api, relay: RelayState):
    before = row_counts(relay.db)
    keys = device_keys("alice")
    keys["signing_key"] = device_keys("alice")["signing_key"]  # key does not match signature
    assert_error(await api.post("/v1/accounts", json={"name": "alice", "device": keys}), 422)
    signed_for_other = device_keys("mallory")
    r = await api.post("/v1/accounts", json={"name": "alice", "device": signed_for_other})
    assert_error(r, 422, "invalid_signature")
    assert row_counts(relay.db) == before


async def test_duplicate_name_conflict(api, relay: RelayState):
    await register(api, "alice")
    before = row_counts(relay.db)
    r = await api.post("/v1/accounts", json={"name": "alice", "device": device_keys("alice")})
    assert_error(r, 409, "conflict")
    assert row_counts(relay.db) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "Alice", "device": None},
        {"name": "alice", "device": {"identity_key": "x"}},
        {"name": "alice", "device": {}, "extra": 1},
        {"name": "a" * 40},
    ],
)
async def test_malformed_account_requests(api, relay: RelayState, body):
    before = row_counts(relay.db)
    assert_error(await api.post("/v1/accounts", json=body), 422, "invalid_request")
    assert_error(await api.post("/v1/accounts", content=b"{not json"), 422, "invalid_request")
    assert row_counts(relay.db) == before


async def test_unauthenticated_and_bad_token(api):
    assert_error(await api.get("/v1/keys/count"), 401, "unauthorized")
    r = await api.get("/v1/keys/count", headers={"Authorization": "Bearer nope"})
    assert_error(r, 401, "unauthorized")
    assert_error(await api.get("/v1/nowhere"), 404, "not_found")


async def test_add_device_goes_to_callers_account(api):
    alice = await register(api, "alice")
    await register(api, "bob")
    # a device signed for bob's account cannot be added through alice's token
    r = await alice.post("/v1/devices", json={"device": device_keys("bob")})
    assert_error(r, 422, "invalid_signature")
    new = await add_device(alice)
    r = await alice.get("/v1/accounts/bob/devices")
    assert new.device_id not in {d["device_id"] for d in r.json()["devices"]}
    assert_error(await api.post("/v1/devices", json={"device": device_keys("bob")}), 401)


async def test_key_claim_upload_count_and_fallback(api):
    alice = await register(api, "alice", otks=2)
    bob = await register(api, "bob")
    ref = {"devices": [{"account": "alice", "device_id": alice.device_id}]}
    got = []
    for _ in range(3):
        r = await bob.post("/v1/keys/claim", json=ref)
        assert r.status_code == 200
        got.append(r.json()["keys"][0])
    assert [k["fallback"] for k in got] == [False, False, True]
    assert len({k["key_id"] for k in got[:2]}) == 2 and got[2]["key_id"] == "fb0"
    assert (await alice.get("/v1/keys/count")).json() == {"one_time_keys": 0}
    r = await alice.post("/v1/keys/upload", json={"one_time_keys": {"n1": fake_key()}})
    assert r.json() == {"one_time_keys": 1}
    missing = {"devices": [{"account": "alice", "device_id": "nosuchdevice"}]}
    assert_error(await bob.post("/v1/keys/claim", json=missing), 404, "not_found")


async def test_concurrent_claims_get_distinct_keys(api):
    alice = await register(api, "alice", otks=20, fallback=False)
    bob = await register(api, "bob")
    ref = {"devices": [{"account": "alice", "device_id": alice.device_id}]}
    results = await asyncio.gather(*(bob.post("/v1/keys/claim", json=ref) for _ in range(30)))
    keys = [k for r in results for k in r.json()["keys"]]
    assert len(keys) == 20  # 20 keys, no fallback: 10 claims get nothing
    assert len({k["key_id"] for k in keys}) == 20


def test_backend_matches_environment(relay: RelayState):
    from fulcrum.server.testing import postgres_url

    expected = "postgresql" if postgres_url() else "sqlite"
    assert relay.db.dialect == expected
