"""Per-rule counts published to the transparency log (and recomputed by an auditor); safety
notices raised by an accepted send are pushed over the WebSocket."""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from pathlib import Path

import pytest
import websockets
from sqlalchemy import update
from tests.integration.client.conftest import World
from typer.testing import CliRunner

from fulcrum.cli.main import app
from fulcrum.client import contacts
from fulcrum.client.sdk import FulcrumClient, SafetyNotice
from fulcrum.client.transport import ApiError
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.server.safety.publish import PublishError, publish_in_app, recompute_day
from fulcrum.server.state import RelayState, relay_state
from fulcrum.server.translog import transparency_log
from fulcrum.store.safety_tables import SafetyDecisionCount
from fulcrum.translog import SafetyRuleStats, parse_entry
from fulcrum.wire.api import API_PREFIX

pytestmark = pytest.mark.integration

MINOR = datetime.datetime.now(tz=datetime.UTC).year - 14


def state_of(server: EmbeddedServer) -> RelayState:
    return relay_state(server.app)


async def refusals(world: World, n: int) -> None:
    await world.user("kid", birth_year=MINOR)
    stranger = await world.user("stranger")
    for _ in range(n):
        with pytest.raises(ApiError):
            await stranger.send_text("kid", "hi")


async def test_publish_a_day_and_recompute_it(world: World, server: EmbeddedServer) -> None:
    await refusals(world, 2)
    st = state_of(server)
    log = transparency_log(st)
    today = int(time.time() // 86400)
    with pytest.raises(PublishError):
        publish_in_app(st, today, time.time())  # the day is not over
    before = log.size()
    later = (today + 1) * 86400.0 + 1
    published = publish_in_app(st, today, later)
    assert list(published) == ["R1-no-first-contact"]
    assert log.size() == before + 1
    entry = parse_entry(log.entries(published["R1-no-first-contact"], log.size())[0])
    assert isinstance(entry, SafetyRuleStats)
    assert dict(entry.counts) == {"refuse": 2} and entry.period_start == today * 86400
    assert publish_in_app(st, today, later) == published and log.size() == before + 1  # once
    # an auditor: the log's entries against the public per-day statistics
    served = (await contacts.safety_stats(world.clients[0], day=today)).counts
    entries = log.entries(0, log.size())
    assert recompute_day(entries, today, served) == []
    assert recompute_day(entries, today, {"R1-no-first-contact": {"refuse": 3}}) == [
        "R1-no-first-contact/refuse: log 2, stats 3"
    ]


def test_cli_publish_stats(server: EmbeddedServer, tmp_path: Path) -> None:
    async def setup() -> None:
        world = World(server, tmp_path / "homes")
        try:
            await refusals(world, 1)
        finally:
            await world.close()

    asyncio.run(setup())
    today = int(time.time() // 86400)
    with state_of(server).db.write() as session:  # yesterday's decisions
        session.execute(update(SafetyDecisionCount).values(day=today - 1))
    yesterday = datetime.datetime.fromtimestamp((today - 1) * 86400, tz=datetime.UTC).date()
    data = ["--data", str(server.settings.data_dir), "--db", server.settings.database_url]
    runner = CliRunner()
    done = runner.invoke(app, ["safety", "publish-stats", "--day", yesterday.isoformat(), *data])
    assert done.exit_code == 0, done.output
    assert "1 rules" in done.output and "R1-no-first-contact" in done.output
    now = datetime.datetime.now(tz=datetime.UTC).date().isoformat()
    early = runner.invoke(app, ["safety", "publish-stats", "--day", now, *data])
    assert early.exit_code == 1 and "not over" in early.output


async def pushed(client: FulcrumClient, server: EmbeddedServer, events: list[dict]) -> None:
    url = "ws" + server.url.removeprefix("http") + API_PREFIX + "/ws"
    headers = {"Authorization": f"Bearer {client.state.token}"}
    async with websockets.connect(url, additional_headers=headers) as ws:
        while True:
            events.append(json.loads(await ws.recv()))


async def test_notice_from_an_accepted_send_is_pushed(
    world: World, server: EmbeddedServer, tmp_path: Path
) -> None:
    kid = await world.user("kid", birth_year=MINOR)
    coach = await world.user("coach")
    await contacts.request_contact(kid, "coach")
    await contacts.accept_contact(coach, "kid")
    events: list[dict] = []
    listener = asyncio.create_task(pushed(kid, server, events))
    for _ in range(50):
        if events:
            break
        await asyncio.sleep(0.05)
    photo = tmp_path / "team.txt"
    photo.write_bytes(b"team photo")
    await coach.send_text("kid", "our team", [photo])  # first media from a new contact
    for _ in range(100):
        if len([e for e in events if e.get("type") == "queued"]) >= 2:
            break
        await asyncio.sleep(0.05)
    listener.cancel()
    queued = [e["seq"] for e in events if e.get("type") == "queued"]
    assert len(queued) == 2  # the message and the safety notice
    notices = [o for o in await kid.sync() if isinstance(o, SafetyNotice)]
    assert [n.notice for n in notices] == ["first_media"]
