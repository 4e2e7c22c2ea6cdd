"""End to end with remote trustee apps: once each trustee has destroyed its share of an epoch
(by its own retention rule and clock) and the platform has logged it, a warrant over that epoch
can no longer be decrypted."""

from __future__ import annotations

import time

import pytest
from tests.integration.access.conftest import Desk
from tests.integration.client.conftest import World
from tests.integration.trustee.conftest import RemoteCouncil

from fulcrum.translog import ShareDestroyed

pytestmark = pytest.mark.integration


async def test_a_destroyed_epoch_can_no_longer_be_decrypted(
    world: World, desk: Desk, remote_council: RemoteCouncil
) -> None:
    council = remote_council.council
    epoch = council.policy.epoch_at(time.time())
    alice, bob = await world.user("alice"), await world.user("bob")
    signed = desk.warrant(["alice"])
    wid = signed.warrant.warrant_id
    assert desk.activate(signed)["stage"] == "approved"
    await alice.send_text("bob", "in scope from alice")
    await bob.send_text("alice", "in scope to alice")

    # the control: before destruction the same warrant's request over this epoch is opened
    before = request(desk, wid)
    r = desk.call("operator", "POST", f"/requests/{before}/partials", json={})
    assert r.status_code == 200, r.text
    assert desk.call("authority", "POST", f"/requests/{before}/complete").status_code == 200
    assert desk.service.requests_of(wid)[0].decrypted == 2

    # the epoch has not ended on the trustees' clocks: every one refuses, nothing is logged
    report = council.destroy_remote(epoch)
    assert report.indices == () and len(report.refused) == 5
    assert all("retention_not_over" in why for why in report.refused.values())
    assert all(s.has_share(epoch) for s in remote_council.stores)

    # a week later on their clocks (retention 0), each destroys its own share and signs it
    remote_council.ahead[0] = council.policy.epoch_seconds + 1
    report = council.destroy_remote(epoch)
    remote_council.ahead[0] = 0.0
    assert report.refused == {} and len(report.indices) == 5
    assert all(s.is_destroyed(epoch) for s in remote_council.stores)
    logged = [e for e in desk.service.entries() if isinstance(e, ShareDestroyed)]
    assert sorted(e.trustee_id for e in logged) == sorted(council.policy.trustees)
    assert all(e.epoch == epoch for e in logged)

    # the warrant is still approved and its messages still retained, but nobody can open them
    await alice.send_text("bob", "in scope, later, same epoch")
    request_id = request(desk, wid)
    r = desk.call("operator", "POST", f"/requests/{request_id}/partials", json={})
    assert r.status_code == 409, r.text
    assert r.text.count("share_destroyed") == 5, r.text
    r = desk.call("authority", "POST", f"/requests/{request_id}/complete")
    assert r.status_code == 409, r.text
    [after] = [q for q in desk.service.requests_of(wid) if q.request_id == request_id]
    assert after.decrypted == 0


def request(desk: Desk, wid: str) -> str:
    r = desk.call("authority", "POST", f"/warrants/{wid}/requests", json={})
    assert r.status_code == 200, r.text
    [request_id] = r.json()["request_ids"]
    return str(request_id)
