"""Rules 5 (groups), 6 (forwarding) and 7 (reports involving a child)."""

from __future__ import annotations

import pytest

from fulcrum.safety import (
    Action,
    Blocked,
    GroupMemberAdded,
    MessageSent,
    Reported,
    ReviewPriority,
    RuleId,
    parse_policy,
)

from .world import HOUR, World, of, refused

pytestmark = pytest.mark.unit


def add(w: World, adder: str, added: str, invite: bool = False, at: float | None = None) -> list:
    return w.engine.check_group_add(
        GroupMemberAdded("team", adder, added, w.now if at is None else at, invite)
    )


# ---- rule 5 -------------------------------------------------------------------------------------
def test_minor_added_by_a_non_connection_is_refused(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    [d] = of(add(world, "bob", "amy"), Action.REFUSE)
    assert d.rule_id is RuleId.GROUP_ADD
    assert "only by a connection or through an invite link they accept" in d.explanation


def test_minor_added_by_connection_or_own_invite(world: World) -> None:
    world.adult("coach")
    world.minor("amy")
    world.minor("ben")
    world.connect("amy", "coach")
    assert add(world, "coach", "amy") == []
    assert add(world, "coach", "ben", invite=True) == []
    assert refused(add(world, "amy", "ben"))  # minors too need a connection


def test_adults_can_be_added_freely(world: World) -> None:
    world.adult("bob")
    world.adult("carol")
    assert add(world, "bob", "carol") == []


def test_refused_group_adds_count_as_fanout(world: World) -> None:
    world.adult("bob")
    decisions = []
    for i in range(5):
        decisions += add(world, "bob", world.minor(f"kid{i}"), at=world.now + i)
    assert of(decisions, Action.RESTRICT, "R3b-fanout")


def test_suspicious_adult_cannot_add_minors_even_by_invite(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    world.minor("zoe")
    world.engine.record(Blocked("zoe", "bob", world.now))
    assert of(add(world, "bob", "amy", invite=True), Action.REFUSE, "R3-blocked-from-minors")


def test_group_rule_can_be_switched_off() -> None:
    w = World(parse_policy("[groups]\nminors_added_by_connections_or_invite_only = false\n"))
    w.adult("bob")
    w.minor("amy")
    assert not refused(add(w, "bob", "amy"))


def test_blocked_adder_is_refused(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    world.engine.record(Blocked("amy", "bob", world.now))
    assert of(add(world, "bob", "amy", invite=True), Action.REFUSE, "R0-blocked")


# ---- rule 6 -------------------------------------------------------------------------------------
def forward(
    w: World, count: int, chats: int, batch: str | None = "b1", at: float | None = None
) -> list:
    w.adult("bob")
    out = []
    for i in range(chats):
        ev = MessageSent(
            "bob", (w.adult(f"p{i}"),), f"chat{i}", w.now if at is None else at,
            forward_count=count, forward_batch=batch,
        )  # fmt: skip
        out.append(w.engine.check_message(ev))
    return out


@pytest.mark.parametrize(
    ("count", "chats", "allowed"),
    [(1, 5, 5), (1, 6, 5), (4, 6, 5), (5, 1, 1), (5, 2, 1), (9, 3, 1)],
)
def test_forward_limits(world: World, count: int, chats: int, allowed: int) -> None:
    results = forward(world, count, chats)
    assert [refused(r) for r in results] == [False] * allowed + [True] * (chats - allowed)
    if chats > allowed:
        [d] = results[allowed]
        assert d.rule_id is RuleId.FORWARD_LIMIT
        assert (
            f"at most {allowed} chats per forward; this would be chat {allowed + 1}"
            in d.explanation
        )


def test_original_messages_are_not_limited(world: World) -> None:
    assert not any(refused(r) for r in forward(world, 0, 8))


def test_forward_batches_expire(world: World) -> None:
    forward(world, 1, 5)
    assert refused(forward(world, 1, 6)[5])
    later = forward(world, 1, 1, at=world.now + 2 * HOUR)[0]
    assert not refused(later)


def test_same_chat_twice_counts_once(world: World) -> None:
    world.adult("bob")
    world.adult("p")
    for _ in range(8):
        ev = MessageSent("bob", ("p",), "chat", world.now, forward_count=1, forward_batch="b")
        assert not refused(world.engine.check_message(ev))


# ---- rule 7 -------------------------------------------------------------------------------------
def test_report_by_minor_gets_priority_review(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    decisions = world.engine.record(Reported("amy", "bob", world.now, report_id="r1"))
    [d] = of(decisions, Action.QUEUE_REVIEW, "R7-child-report")
    assert d.priority is ReviewPriority.HIGH
    assert d.subject == "bob"
    assert "reporter 'amy' is a minor" in d.explanation
    assert d.evidence["report_id"] == "r1"
    assert world.engine.store.reports_against("bob")[0].report_id == "r1"


def test_adult_report_marked_involving_a_child(world: World) -> None:
    world.adult("bob")
    world.adult("carol")
    [d] = world.engine.record(Reported("carol", "bob", world.now, involves_child=True))
    assert d.rule_id is RuleId.CHILD_REPORT
    assert "marked it as involving a child" in d.explanation


def test_ordinary_report_takes_the_ordinary_path(world: World) -> None:
    world.adult("bob")
    world.adult("carol")
    assert world.engine.record(Reported("carol", "bob", world.now)) == []


def test_child_report_priority_is_configurable() -> None:
    w = World(parse_policy("[reports]\nminor_reports_priority = 'normal'\n"))
    w.adult("bob")
    w.adult("carol")
    [d] = w.engine.record(Reported("carol", "bob", w.now, involves_child=True))
    assert d.priority is ReviewPriority.NORMAL
