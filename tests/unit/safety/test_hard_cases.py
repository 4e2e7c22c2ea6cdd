"""Legitimate adults with many ties to minors must not be flagged: family, coach, relative."""

from __future__ import annotations

import pytest

from fulcrum.safety import (
    AccountLinked,
    Action,
    ContactAccepted,
    GroupMemberAdded,
    LinkKind,
    MessageSent,
    parse_policy,
)

from .world import DAY, HOUR, World

pytestmark = pytest.mark.unit
FLAGS = {Action.REFUSE, Action.RESTRICT, Action.QUEUE_REVIEW}


def flags(decisions: list) -> list:
    return [d for d in decisions if d.action in FLAGS]


def test_family_parent_with_kids_and_other_parents(world: World) -> None:
    world.adult("mum", age_days=3)  # a brand-new account
    kids = [world.minor("k1"), world.minor("k2", young=True)]
    parents = [world.adult(f"parent{i}") for i in range(3)]
    friends = [world.minor(f"friend{i}") for i in range(3)]
    out: list = []
    world.engine.record(AccountLinked("mum", "k2", world.now, LinkKind.FAMILY))
    world.connect("k1", "mum")  # the teenager adds mum
    for p, f in zip(parents, friends, strict=True):
        world.connect("mum", p)
        world.connect(f, p)  # each friend is connected to their own parent
        world.connect(f, "k1")
    for day in range(10):
        t = world.now + day * DAY + 8 * HOUR
        for i, kid in enumerate(kids):
            for j in range(30):
                out += world.send("mum", kid, at=t + i + j * 5, has_media=j == 0)
                out += world.send(kid, "mum", at=t + i + j * 5 + 1)
        for p in parents:
            out += world.send("mum", p, at=t + 900)
        # birthday party group: the friends join through an invite link
        for f in friends:
            out += world.engine.check_group_add(GroupMemberAdded("party", "mum", f, t, True))
        out += world.engine.check_message(
            MessageSent(
                "mum", (*kids, *friends, *parents), "party", t + 1000, has_media=True, is_group=True
            )
        )
    assert flags(out) == []
    assert not world.engine.suspicious_adult_status("mum", world.now + 10 * DAY).suspicious


def test_coach_whose_team_sent_the_requests(world: World) -> None:
    world.adult("coach")
    team = [world.minor(f"player{i}") for i in range(25)]
    out: list = []
    for i, kid in enumerate(team):  # a few join each day over three weeks
        world.connect(kid, "coach", at=world.now + (i // 2) * DAY)
    start = world.now + 13 * DAY
    for day in range(14):
        t = start + day * DAY + 17 * HOUR
        for i, kid in enumerate(team):
            out += world.send("coach", kid, at=t + i, has_media=day == 2)
        out += world.engine.check_message(
            MessageSent("coach", tuple(team), "team", t + 60, is_group=True)
        )
        for kid in team[:5]:
            out += world.engine.check_group_add(GroupMemberAdded(f"squad{day}", "coach", kid, t))
    assert flags(out) == []
    assert not world.engine.suspicious_adult_status("coach", start + 14 * DAY).suspicious


def test_coach_who_sends_requests_that_are_accepted() -> None:
    w = World(parse_policy("[first_contact]\nadult_requests_to_minors = 'allow'\n"))
    w.adult("coach")
    out: list = []
    for i in range(30):  # four a day for a week, each accepted within the hour
        kid = w.minor(f"player{i}")
        at = w.now + (i // 4) * DAY + (i % 4) * 2 * HOUR
        out += w.request("coach", kid, at=at)
        out += w.engine.record(ContactAccepted(kid, "coach", at + 0.5 * HOUR))
        out += w.send("coach", kid, at=at + HOUR)
    assert flags(out) == []
    assert not w.engine.suspicious_adult_status("coach", w.now + 8 * DAY).suspicious


def test_relative_abroad_with_a_new_account(world: World) -> None:
    world.adult("gran", country="US", age_days=5)
    world.adult("dad")
    world.minor("amy")
    world.minor("tom", young=True)
    world.connect("amy", "dad")
    world.connect("tom", "dad")
    world.connect("amy", "tom")
    world.connect("dad", "gran")
    world.connect("amy", "gran")
    out: list = []
    # gran writes to tom before he has added her: refused, but with mutual contacts it is no flag
    out += [d for d in world.send("gran", "tom") if d.action is not Action.REFUSE]
    world.connect("tom", "gran", at=world.now + HOUR)
    for day in range(1, 20):
        t = world.now + day * DAY  # noon UK time
        for kid in ("amy", "tom"):
            out += world.send("gran", kid, at=t, has_media=day == 4)
            out += world.send(kid, "gran", at=t + 60)
    assert flags(out) == []
    assert not world.engine.suspicious_adult_status("gran", world.now + 5 * DAY).suspicious


def test_contrast_stranger_abroad_without_mutuals_is_flagged(world: World) -> None:
    world.adult("stranger", country="US", age_days=5)
    world.minor("amy")
    out = world.send("stranger", "amy")
    assert {d.rule_id.value for d in out if d.action is Action.RESTRICT} == {"R3f-cross-border-new"}


def test_contrast_requests_that_are_not_accepted_are_flagged() -> None:
    w = World(parse_policy("[first_contact]\nadult_requests_to_minors = 'allow'\n"))
    w.adult("stranger")
    out: list = []
    for i in range(10):
        out += w.request("stranger", w.minor(f"kid{i}"), at=w.now + (i // 4) * DAY)
    assert {d.rule_id.value for d in out if d.action is Action.RESTRICT} == {"R3b-fanout"}
