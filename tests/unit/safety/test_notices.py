"""Rule 4: safety notices to minors (burst, late night, first media, suspicious adult)."""

from __future__ import annotations

import pytest

from fulcrum.safety import Action, MessageSent, NoticeKind, RuleId

from .world import DAY, HOUR, MIN, World, of

pytestmark = pytest.mark.unit


def new_contact(w: World, *, days_ago: float = 1.0, young: bool = False, **kw: object) -> None:
    w.adult("bob")
    w.minor("amy", young=young, **kw)
    w.connect("amy", "bob", at=w.now - days_ago * DAY)


def burst(w: World, n: int, spacing: float, start: float) -> list:
    out = []
    for i in range(n):
        out += w.send("bob", "amy", at=start + i * spacing)
    return out


@pytest.mark.parametrize(("n", "expected"), [(19, 0), (20, 1), (21, 1)])
def test_burst_threshold(world: World, n: int, expected: int) -> None:
    new_contact(world)
    notices = of(burst(world, n, 20.0, world.now), Action.SAFETY_NOTICE, "R4b-burst")
    assert len(notices) == expected
    if notices:
        [d] = notices
        assert d.notify == "amy"
        assert d.subject == "bob"
        assert d.notice is NoticeKind.MESSAGE_BURST
        assert "20 messages in 10 min from adult 'bob'" in d.explanation
        assert "(threshold 20 in 10 min" in d.explanation


def test_burst_must_fit_the_window(world: World) -> None:
    new_contact(world)
    assert not of(burst(world, 40, 32.0, world.now), Action.SAFETY_NOTICE)  # 600 s holds 19


@pytest.mark.parametrize(("days_ago", "expected"), [(13.9, 1), (14.0, 0)])
def test_burst_only_from_new_contacts(world: World, days_ago: float, expected: int) -> None:
    new_contact(world, days_ago=days_ago)
    assert len(of(burst(world, 20, 1.0, world.now), Action.SAFETY_NOTICE)) == expected


def test_burst_notice_cooldown(world: World) -> None:
    new_contact(world)
    assert len(of(burst(world, 60, 1.0, world.now), Action.SAFETY_NOTICE)) == 1
    assert not of(burst(world, 20, 1.0, world.now + 23 * HOUR), Action.SAFETY_NOTICE)
    assert len(of(burst(world, 20, 1.0, world.now + 24 * HOUR + 60), Action.SAFETY_NOTICE)) == 1


def test_minor_to_minor_burst_is_not_a_notice(world: World) -> None:
    world.minor("bob")
    world.minor("amy")
    world.connect("amy", "bob")
    assert not of(burst(world, 30, 1.0, world.now), Action.SAFETY_NOTICE)


def late(world: World, local_hour: float, offset_min: int = 0) -> list:
    midnight = world.now - 12 * HOUR  # T0 is 12:00 UTC
    return world.send("bob", "amy", at=midnight + local_hour * HOUR - offset_min * MIN + DAY)


@pytest.mark.parametrize(
    ("hour", "expected"),
    [(22.99, 0), (23.0, 1), (2.5, 1), (5.99, 1), (6.0, 0), (12.0, 0)],
)
def test_late_night_hours(world: World, hour: float, expected: int) -> None:
    new_contact(world)
    notices = of(late(world, hour), Action.SAFETY_NOTICE, "R4c-late-night")
    assert len(notices) == expected
    if notices:
        assert "late night 23:00-06:00" in notices[0].explanation


@pytest.mark.parametrize(("hour", "expected"), [(21.99, 0), (22.0, 1)])
def test_young_minor_late_night_starts_earlier(world: World, hour: float, expected: int) -> None:
    new_contact(world, young=True)
    assert len(of(late(world, hour), Action.SAFETY_NOTICE, "R4c-late-night")) == expected


def test_late_night_uses_account_offset(world: World) -> None:
    new_contact(world, offset=330)
    assert of(late(world, 23.5, offset_min=330), Action.SAFETY_NOTICE, "R4c-late-night")
    assert not of(late(world, 23.5, offset_min=0), Action.SAFETY_NOTICE, "R4c-late-night")


def test_late_night_falls_back_to_country_default(world: World) -> None:
    new_contact(world, country="JP")
    [d] = of(late(world, 0.5, offset_min=540), Action.SAFETY_NOTICE, "R4c-late-night")
    assert d.evidence["utc_offset_minutes"] == 540
    assert d.evidence["local_hour"] == 0


def test_late_night_only_for_new_contacts(world: World) -> None:
    new_contact(world, days_ago=20)
    assert not of(late(world, 1.0), Action.SAFETY_NOTICE)


@pytest.mark.parametrize(("hours_ago", "expected"), [(71.9, 1), (72.0, 0)])
def test_first_media_from_new_contact(world: World, hours_ago: float, expected: int) -> None:
    new_contact(world, days_ago=hours_ago / 24)
    notices = of(world.send("bob", "amy", has_media=True), Action.SAFETY_NOTICE, "R4d-first-media")
    assert len(notices) == expected
    if notices:
        assert notices[0].notice is NoticeKind.FIRST_MEDIA
        assert "(threshold 72 h)" in notices[0].explanation


def test_only_the_first_media_gets_a_notice(world: World) -> None:
    new_contact(world, days_ago=0.5)
    assert of(world.send("bob", "amy", has_media=True), Action.SAFETY_NOTICE)
    assert not of(
        world.send("bob", "amy", has_media=True, at=world.now + HOUR), Action.SAFETY_NOTICE
    )


def test_young_minor_media_window_is_longer(world: World) -> None:
    new_contact(world, days_ago=5, young=True)
    assert of(world.send("bob", "amy", has_media=True), Action.SAFETY_NOTICE, "R4d-first-media")


def test_first_media_from_a_new_minor_contact_too(world: World) -> None:
    world.minor("ben")
    world.minor("amy")
    world.connect("ben", "amy")
    [d] = of(world.send("ben", "amy", has_media=True), Action.SAFETY_NOTICE)
    assert d.rule_id is RuleId.NOTICE_FIRST_MEDIA


def test_adult_recipients_get_no_notices(world: World) -> None:
    world.adult("bob")
    world.adult("carol")
    world.connect("bob", "carol")
    for i in range(30):
        assert world.send("bob", "carol", at=world.now + i, has_media=True) == []


def test_group_messages_notify_about_suspicious_adults_only(world: World) -> None:
    from fulcrum.safety import Blocked

    new_contact(world)
    world.minor("zoe")
    for i in range(25):  # no burst notices in groups
        group = MessageSent("bob", ("amy",), "team", world.now + i, is_group=True)
        assert world.engine.check_message(group) == []
    world.engine.record(Blocked("amy", "bob", world.now + 100))
    group = MessageSent("bob", ("amy", "zoe"), "team", world.now + 200, is_group=True)
    [d] = of(world.engine.check_message(group), Action.SAFETY_NOTICE, "R4a-suspicious-adult-notice")
    assert d.notify == "zoe"  # amy blocked bob herself: no notice to her


def test_family_link_suppresses_new_contact_notices(world: World) -> None:
    from fulcrum.safety import AccountLinked, LinkKind

    new_contact(world, days_ago=0.5)
    world.engine.record(AccountLinked("bob", "amy", world.now, LinkKind.FAMILY))
    assert burst(world, 25, 1.0, world.now) == []
    assert world.send("bob", "amy", has_media=True, at=world.now + 60) == []
