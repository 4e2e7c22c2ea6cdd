"""Rule 1: no first contact to a minor from outside their connections."""

from __future__ import annotations

import pytest

from fulcrum.safety import (
    AccountLinked,
    Action,
    Blocked,
    ContactAccepted,
    ContactDeclined,
    LinkKind,
    RuleId,
    SafetyEngine,
    parse_policy,
)

from .world import DAY, MIN, World, of, refused

pytestmark = pytest.mark.unit


def test_adult_message_to_unconnected_minor_is_refused_and_explained(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    decisions = world.send("bob", "amy")
    [d] = of(decisions, Action.REFUSE)
    assert d.rule_id is RuleId.NO_FIRST_CONTACT
    assert d.explanation == (
        "refused by rule R1-no-first-contact: adult 'bob' is not a connection of minor 'amy'"
    )
    assert d.subject == "bob"


def test_adult_contact_request_to_minor_is_refused(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    [d] = of(world.request("bob", "amy"), Action.REFUSE)
    assert d.rule_id is RuleId.NO_FIRST_CONTACT
    # refused requests create no pending connection
    assert refused(world.send("bob", "amy"))


def test_preview_changes_nothing(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    for _ in range(10):
        assert refused(world.engine.check_contact_request("bob", "amy", world.now))
    assert not world.engine.suspicious_adult_status("bob", world.now).suspicious
    assert world.engine.rule_stats(world.now, world.now).counts == ()


def test_policy_may_let_the_minor_decide_on_adult_requests() -> None:
    w = World(parse_policy("[first_contact]\nadult_requests_to_minors = 'allow'\n"))
    w.adult("bob")
    w.minor("amy")
    assert not refused(w.request("bob", "amy"))
    assert refused(w.send("bob", "amy"))  # messages still wait for acceptance
    w.engine.record(ContactAccepted("amy", "bob", w.now))
    assert not refused(w.send("bob", "amy"))


def test_connection_initiated_by_the_minor_opens_the_chat(world: World) -> None:
    world.adult("coach")
    world.minor("amy")
    world.connect("amy", "coach")
    assert world.send("coach", "amy", at=world.now + 30 * DAY) == []
    assert world.send("amy", "coach", at=world.now + 30 * DAY) == []


def test_minor_to_adult_first_message_is_allowed(world: World) -> None:
    world.adult("shop")
    world.minor("amy")
    assert world.send("amy", "shop") == []
    # ...but the adult still cannot answer outside a connection
    assert refused(world.send("shop", "amy"))


def test_adults_are_not_restricted(world: World) -> None:
    world.adult("bob")
    world.adult("carol")
    assert world.send("bob", "carol") == []
    assert world.request("bob", "carol") == []


def test_minor_to_minor_needs_a_request_first(world: World) -> None:
    world.minor("amy")
    world.minor("ben")
    [d] = of(world.send("amy", "ben"), Action.REFUSE)
    assert d.rule_id is RuleId.NO_FIRST_CONTACT
    assert "send a contact request first" in d.explanation


def test_minor_to_minor_one_text_only_request_message(world: World) -> None:
    world.minor("amy")
    world.minor("ben")
    assert world.request("amy", "ben") == []
    first = world.send("amy", "ben")
    [ok] = of(first, Action.ALLOW, "R1-minor-request-message")
    assert "request message 1 of 1" in ok.explanation
    [d] = of(world.send("amy", "ben", at=world.now + MIN), Action.REFUSE)
    assert d.rule_id is RuleId.MINOR_REQUEST_MESSAGE
    assert "1 request message(s) already sent (limit 1)" in d.explanation
    # the recipient cannot answer before accepting
    assert refused(world.send("ben", "amy"))


def test_minor_request_message_must_be_text_only(world: World) -> None:
    world.minor("amy")
    world.minor("ben")
    world.request("amy", "ben")
    [d] = of(world.send("amy", "ben", has_media=True), Action.REFUSE)
    assert "text only" in d.explanation
    [d] = of(world.send("amy", "ben", forward_count=1), Action.REFUSE)
    assert "forward" in d.explanation
    # the text message is still available after refused attempts
    assert not refused(world.send("amy", "ben"))


def test_request_message_limit_is_configurable() -> None:
    w = World(parse_policy("[first_contact]\nminor_request_messages = 2\n"))
    w.minor("amy")
    w.minor("ben")
    w.request("amy", "ben")
    assert not refused(w.send("amy", "ben"))
    assert not refused(w.send("amy", "ben"))
    assert refused(w.send("amy", "ben"))


def test_declined_request_closes_the_request_message(world: World) -> None:
    world.minor("amy")
    world.minor("ben")
    world.request("amy", "ben")
    world.engine.record(ContactDeclined("ben", "amy", world.now))
    assert refused(world.send("amy", "ben"))


def test_family_link_counts_as_connection(world: World) -> None:
    world.adult("mum")
    world.minor("amy")
    world.engine.record(AccountLinked("mum", "amy", world.now, LinkKind.FAMILY))
    assert world.send("mum", "amy") == []


def test_same_device_link_is_not_a_connection(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    world.engine.record(AccountLinked("bob", "amy", world.now, LinkKind.SAME_DEVICE))
    assert refused(world.send("bob", "amy"))


def test_block_refuses_messages_and_requests(world: World) -> None:
    world.adult("bob")
    world.adult("carol")
    world.connect("bob", "carol")
    world.engine.record(Blocked("carol", "bob", world.now))
    [d] = of(world.send("bob", "carol"), Action.REFUSE)
    assert d.rule_id is RuleId.BLOCKED
    assert refused(world.request("bob", "carol"))
    assert world.send("carol", "bob") == []  # the blocker may still write


def test_unknown_age_is_treated_as_minor_by_default(world: World) -> None:
    world.adult("bob")
    world.account("kim", None)
    [d] = of(world.send("bob", "kim"), Action.REFUSE)
    assert "is not a connection of minor 'kim'" in d.explanation
    assert world.engine.age_band("kim", world.now).value == "unknown"


def test_unknown_age_as_adult_by_policy() -> None:
    w = World(parse_policy("[age]\nunknown_age_treated_as = 'adult'\n"))
    w.adult("bob")
    w.account("kim", None)
    assert w.send("bob", "kim") == []


def test_unseen_accounts_are_unknown_age(world: World) -> None:
    world.adult("bob")
    assert refused(world.send("bob", "ghost"))


def test_minor_becomes_adult_on_31_december() -> None:
    from datetime import UTC, datetime

    engine = SafetyEngine()
    w = World()
    w.engine = engine
    w.adult("bob")
    w.account("amy", 2007)  # turns 18 at the latest on 31 Dec 2025
    dec30 = datetime(2025, 12, 30, 12, tzinfo=UTC).timestamp()
    dec31 = datetime(2025, 12, 31, 0, tzinfo=UTC).timestamp()
    assert refused(w.send("bob", "amy", at=dec30))
    assert w.send("bob", "amy", at=dec31) == []
