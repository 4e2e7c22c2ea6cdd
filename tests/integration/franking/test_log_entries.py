"""Franking on the transparency log: tag-key events and daily report numbers, each entry
checked against the log's signed tree with an inclusion proof."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from tests.integration.client.conftest import World
from tests.integration.franking.test_reports_e2e import chat

from fulcrum.client.franking_reports import report_message
from fulcrum.franking import ReasonCode, kid_for
from fulcrum.server.franking import franking_state
from fulcrum.server.franking.keys import key_commitment
from fulcrum.server.franking.operators import create_reviewer
from fulcrum.server.franking.transparency import (
    abuse_report_totals,
    cross_check_stats,
    daily_counts,
)
from fulcrum.server.state import relay_state
from fulcrum.server.translog import TransparencyLog, transparency_log
from fulcrum.store.franking import FrankingKeyEvent, FrankingTagKey
from fulcrum.translog import (
    AbuseReportStats,
    FrankingKeyDestroyed,
    FrankingKeyRotated,
    LogEntry,
    parse_entry,
)
from fulcrum.translog.merkle import leaf_hash, verify_inclusion

pytestmark = pytest.mark.integration


def logged(log: TransparencyLog) -> list[tuple[int, LogEntry]]:
    """Every entry, each checked by inclusion proof against a fresh cosigned checkpoint."""
    head = log.checkpoint()
    out = []
    for index, data in enumerate(log.entries(0, head.size)):
        leaf, proof = log.inclusion_proof(index, head.size)
        assert leaf == leaf_hash(data)
        verify_inclusion(leaf, index, head.size, proof, head.root_hash)
        out.append((index, parse_entry(data)))
    return out


async def test_key_rotation_and_destruction_are_logged(world: World) -> None:
    await chat(world)
    state = relay_state(world.server.app)
    feature, log = franking_state(state), transparency_log(state)
    now = datetime.now(UTC)
    first = [e for _, e in logged(log) if isinstance(e, FrankingKeyRotated)]
    assert [e.key_id for e in first] == [kid_for(now)]
    key = feature.vault._keyring.key(kid_for(now))
    assert key is not None and first[0].key_commitment == key_commitment(key.kid, key.secret)

    later = now + timedelta(days=31 * 14)
    feature.clock = lambda: later
    alice = world.clients[0]
    await alice.send_text("bob", "a year and more later")
    entries = [e for _, e in logged(log)]
    rotated = [e.key_id for e in entries if isinstance(e, FrankingKeyRotated)]
    destroyed = [e.key_id for e in entries if isinstance(e, FrankingKeyDestroyed)]
    assert rotated == [kid_for(now), kid_for(later)] and destroyed == [kid_for(now)]
    with state.db.read() as session:
        events = session.scalar(select(func.count()).select_from(FrankingKeyEvent))
    assert events == len(rotated) + len(destroyed)  # one log entry per recorded event


async def test_key_event_and_log_entry_commit_together(world: World) -> None:
    state = relay_state(world.server.app)
    log = transparency_log(state)
    original = log.append_in

    def broken(*_: object) -> int:
        raise RuntimeError("log unavailable")

    log.append_in = broken  # type: ignore[method-assign]
    alice, _bob = await world.user("alice"), await world.user("bob")
    with pytest.raises(Exception):
        await alice.send_text("bob", "no key without its log entry")
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(FrankingKeyEvent)) == 0
        assert session.scalar(select(func.count()).select_from(FrankingTagKey)) == 0
    before = log.size()  # other features may have logged already (e.g. an escrow epoch key)
    assert not [e for _, e in logged(log) if isinstance(e, FrankingKeyRotated)]
    log.append_in = original  # type: ignore[method-assign]
    await alice.send_text("bob", "now it works")
    assert [type(e) for _, e in logged(log)][before:] == [FrankingKeyRotated]


async def test_daily_report_stats_published_and_recomputable(world: World) -> None:
    _alice, bob, ids = await chat(world)
    state = relay_state(world.server.app)
    feature, log = franking_state(state), transparency_log(state)
    first = await report_message(bob, ids[-1], ReasonCode.HARASSMENT, context=2)
    assert first.verified
    day = datetime.now(UTC).date()
    assert not [e for _, e in logged(log) if isinstance(e, AbuseReportStats)]

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    feature.clock = lambda: tomorrow
    second = await report_message(bob, ids[0], ReasonCode.SPAM, context=0)
    assert second.verified
    [(index, stats)] = [(i, e) for i, e in logged(log) if isinstance(e, AbuseReportStats)]
    assert isinstance(stats, AbuseReportStats)
    counts = dict(stats.counts)
    assert counts["received"] == 1 and counts["verified"] == 1
    assert counts["reason.harassment"] == 1 and counts["reason.spam"] == 0
    assert counts["cases_opened"] == 1 and counts["clearinghouse_filed"] == 0
    start = int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())
    assert (stats.period_start, stats.period_end) == (start, start + 86400)
    with state.db.read() as session:
        assert daily_counts(session, day) == counts
    mirrored = [e for _, e in logged(log)]
    assert abuse_report_totals(mirrored, start, start + 86400) == counts
    assert cross_check_stats(mirrored) == []

    admin = create_reviewer(state.db, "ops", "admin")
    senior = create_reviewer(state.db, "sen", "senior")
    url = f"{world.server.url}/v1/review/stats"
    with httpx.Client(headers={"Authorization": f"Bearer {admin}"}) as http:
        again = http.post(f"{url}/{day.isoformat()}")
        assert again.status_code == 200 and again.json()["log_index"] == index
        assert again.json()["counts"] == counts
        assert http.post(f"{url}/{tomorrow.date().isoformat()}").status_code == 409
        assert http.post(f"{url}/yesterday").status_code == 422
    denied = httpx.post(f"{url}/{day.isoformat()}", headers={"Authorization": f"Bearer {senior}"})
    assert denied.status_code == 403
    assert len([e for _, e in logged(log) if isinstance(e, AbuseReportStats)]) == 1


def test_cross_check_catches_a_wrong_count() -> None:
    bad = AbuseReportStats(
        time=10,
        period_start=0,
        period_end=86400,
        counts=(("clearinghouse_filed", 1), ("received", 2), ("verified", 1)),
    )
    problems = cross_check_stats([bad])
    assert len(problems) == 2
