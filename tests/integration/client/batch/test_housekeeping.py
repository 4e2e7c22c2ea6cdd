"""Housekeeping deletes the routing metadata of delivered messages after the retention period,
and never a message some device has not acked (nor one still within the period)."""

from __future__ import annotations

import time

import pytest
from tests.integration.server.helpers import dm_envelope, register, row_counts

from fulcrum.server.housekeeping import DAY_MS, run_housekeeping
from fulcrum.server.state import RelayState

pytestmark = pytest.mark.integration


async def test_delivered_metadata_expires_and_undelivered_messages_stay(api, relay: RelayState):
    alice, bob = await register(api, "alice"), await register(api, "bob")
    carol = await register(api, "carol")
    to_bob = [dm_envelope(alice, [bob]) for _ in range(3)]
    to_carol = dm_envelope(alice, [carol])  # carol never fetches: it stays queued
    r = await alice.post("/v1/messages:batch", json={"envelopes": [*to_bob, to_carol]})
    assert [x["status"] for x in r.json()["results"]] == [200] * 4
    items = (await bob.get("/v1/queue")).json()["items"]
    acked = await bob.post("/v1/queue/ack", json={"seqs": [i["seq"] for i in items[:2]]})
    assert acked.status_code == 200, acked.text
    before = row_counts(relay.db)
    now = int(time.time() * 1000)
    retention = relay.settings.metadata_retention_days * DAY_MS

    # within the retention period nothing is deleted
    assert run_housekeeping(relay, now).messages == 0
    assert row_counts(relay.db) == before

    # past it: the two messages bob acked go, with their queue rows; the unacked ones stay
    report = run_housekeeping(relay, now + retention + 60_000)
    assert report.messages == 2
    after = row_counts(relay.db)
    assert before["messages"] - after["messages"] == 2
    assert before["queue"] - after["queue"] == 2
    left = (await bob.get("/v1/queue")).json()["items"]
    assert [i["msg_id"] for i in left] == [to_bob[2]["msg_id"]]
    assert [i["msg_id"] for i in (await carol.get("/v1/queue")).json()["items"]] == [
        to_carol["msg_id"]
    ]
    # idempotent; a later ack makes the rest eligible at the next run
    assert run_housekeeping(relay, now + retention + 60_000).messages == 0
    await bob.post("/v1/queue/ack", json={"seqs": [left[0]["seq"]]})
    assert run_housekeeping(relay, now + retention + 60_000).messages == 1


async def test_the_loop_runs_periodically_and_survives_a_failed_run(
    relay: RelayState, monkeypatch: pytest.MonkeyPatch
):
    import asyncio
    import dataclasses

    import fulcrum.server.housekeeping as housekeeping

    calls: list[int] = []

    def fake_run(state: RelayState, now_ms: int) -> None:
        calls.append(now_ms)
        if len(calls) == 1:
            raise RuntimeError("database went away")

    monkeypatch.setattr(housekeeping, "run_housekeeping", fake_run)
    fast = dataclasses.replace(
        relay, settings=relay.settings.model_copy(update={"housekeeping_seconds": 0.02})
    )
    task = asyncio.create_task(housekeeping.housekeeping_loop(fast))
    for _ in range(200):
        await asyncio.sleep(0.01)
        if len(calls) >= 3:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(calls) >= 3  # the failure on the first run did not stop the loop
