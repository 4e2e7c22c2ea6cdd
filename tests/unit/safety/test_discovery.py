"""Rule 2: minors are not discoverable."""

from __future__ import annotations

import pytest

from fulcrum.safety import Action, Blocked, RuleId, Surface, parse_policy

from .world import World

pytestmark = pytest.mark.unit


def test_minor_hidden_from_strangers(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    world.minor("ben")
    for viewer in ("bob", "ben"):
        for surface in Surface:
            assert not world.engine.discoverable(viewer, "amy", world.now, surface)
    d = world.engine.explain_discoverable("bob", "amy", world.now)
    assert d is not None
    assert d.action is Action.HIDE
    assert d.rule_id is RuleId.NOT_DISCOVERABLE
    assert "minor 'amy' is not shown in search to 'bob', who is not a connection" in d.explanation


def test_minor_visible_to_connections_and_self(world: World) -> None:
    world.minor("amy")
    world.minor("ben")
    world.connect("amy", "ben")
    assert world.engine.discoverable("ben", "amy", world.now)
    assert world.engine.discoverable("amy", "amy", world.now)


def test_adults_are_discoverable(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    assert world.engine.discoverable("amy", "bob", world.now)
    assert world.engine.discoverable(world.adult("carol"), "bob", world.now)


def test_blocks_hide_both_ways(world: World) -> None:
    world.adult("bob")
    world.adult("carol")
    world.engine.record(Blocked("carol", "bob", world.now))
    assert not world.engine.discoverable("bob", "carol", world.now)
    assert not world.engine.discoverable("carol", "bob", world.now)


def test_minor_contact_list_hidden(world: World) -> None:
    world.minor("amy")
    world.adult("bob")
    assert not world.engine.contact_list_visible("bob", "amy", world.now)
    assert world.engine.contact_list_visible("amy", "amy", world.now)
    assert world.engine.contact_list_visible("amy", "bob", world.now)


def test_suggestions_through_mutual_contacts_when_enabled() -> None:
    policy = "[discovery]\nminors_suggested_to_minors_with_mutual_contacts = true\n"
    w = World(parse_policy(policy))
    for name in ("amy", "ben", "cat"):
        w.minor(name)
    w.adult("bob")
    w.connect("amy", "ben")
    w.connect("cat", "ben")
    assert w.engine.discoverable("cat", "amy", w.now, Surface.SUGGESTIONS)
    assert not w.engine.discoverable("cat", "amy", w.now, Surface.SEARCH)
    assert not World().engine.discoverable("cat", "amy", w.now, Surface.SUGGESTIONS)


def test_hides_are_counted(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    for _ in range(3):
        world.engine.discoverable("bob", "amy", world.now)
    assert (
        world.engine.rule_stats(world.now, world.now).get(RuleId.NOT_DISCOVERABLE, Action.HIDE) == 3
    )
