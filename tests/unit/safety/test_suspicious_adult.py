"""Rule 3: suspicious adults, each criterion at, just below and just above its threshold."""

from __future__ import annotations

import pytest

from fulcrum.safety import (
    AccountBanned,
    AccountLinked,
    Action,
    BanReason,
    Blocked,
    ContactAccepted,
    ContactDeclined,
    LinkKind,
    NoticeKind,
    Reported,
    RuleId,
    parse_policy,
)

from .world import DAY, HOUR, World, of, refused

pytestmark = pytest.mark.unit


def status_rules(w: World, account: str, at: float) -> set[str]:
    return {r.value for r in w.engine.suspicious_adult_status(account, at).rule_ids}


def minors(w: World, n: int, prefix: str = "kid") -> list[str]:
    return [w.minor(f"{prefix}{i}") for i in range(n)]


# ---- (a) blocked or reported by a minor in the last 30 days ----
def test_block_by_minor_flags_for_30_days(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    world.connect("amy", "bob")
    decisions = world.engine.record(Blocked("amy", "bob", world.now))
    [d] = of(decisions, Action.RESTRICT)
    assert d.rule_id is RuleId.MINOR_COMPLAINT
    assert "blocked by minor 'amy'" in d.explanation
    assert "window 30 days" in d.explanation
    assert status_rules(world, "bob", world.now + 30 * DAY - 1) == {"R3a-minor-complaint"}
    assert status_rules(world, "bob", world.now + 30 * DAY) == set()


def test_report_by_minor_flags(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    world.engine.record(Reported("amy", "bob", world.now))
    assert status_rules(world, "bob", world.now) == {"R3a-minor-complaint"}


def test_block_by_adult_does_not_flag(world: World) -> None:
    world.adult("bob")
    world.adult("carol")
    assert world.engine.record(Blocked("carol", "bob", world.now)) == []
    assert status_rules(world, "bob", world.now) == set()


# ---- (b) fan-out to unconnected minors ----
@pytest.mark.parametrize(("count", "flagged"), [(4, False), (5, True), (6, True)])
def test_fanout_day_threshold(world: World, count: int, flagged: bool) -> None:
    world.adult("bob")
    for i, kid in enumerate(minors(world, count)):
        world.send("bob", kid, at=world.now + i * HOUR)
    last = world.now + (count - 1) * HOUR
    assert (status_rules(world, "bob", last) == {"R3b-fanout"}) is flagged


def test_fanout_explanation_has_the_numbers(world: World) -> None:
    world.adult("bob")
    decisions = []
    for i, kid in enumerate(minors(world, 6)):
        decisions += world.send("bob", kid, at=world.now + i)
    [d] = of(decisions, Action.RESTRICT)
    assert d.explanation.startswith(
        "flagged by R3b-fanout: 5 unconnected minors contacted in 24 h (threshold 5)"
    )
    assert d.evidence["minors_day"] == 5
    assert d.thresholds["fanout_day_threshold"] == 5
    # the sixth contact is refused because of the flag, naming the criteria
    assert of(decisions, Action.REFUSE, "R3-blocked-from-minors")


def test_fanout_counts_distinct_minors_and_expires_after_24h(world: World) -> None:
    world.adult("bob")
    kids = minors(world, 5)
    for _ in range(3):
        world.send("bob", kids[0])
    for i, kid in enumerate(kids[1:4]):
        world.send("bob", kid, at=world.now + i)
    assert status_rules(world, "bob", world.now + 10) == set()
    world.send("bob", kids[4], at=world.now + 24 * HOUR)  # kids[0] has left the window
    assert status_rules(world, "bob", world.now + 24 * HOUR) == set()


@pytest.mark.parametrize(("count", "flagged"), [(9, False), (10, True), (11, True)])
def test_fanout_week_threshold(world: World, count: int, flagged: bool) -> None:
    world.adult("bob")
    for i, kid in enumerate(minors(world, count)):
        world.send("bob", kid, at=world.now + (i // 3) * DAY)  # 3 a day: under the daily threshold
    last = world.now + ((count - 1) // 3) * DAY
    assert (status_rules(world, "bob", last) == {"R3b-fanout"}) is flagged
    if flagged:
        assert (
            "in 7 days (threshold 10)"
            in world.engine.suspicious_adult_status("bob", last).explain()
        )


def test_contact_with_connected_minors_is_not_fanout(world: World) -> None:
    world.adult("coach")
    for kid in minors(world, 12):
        world.connect(kid, "coach")
        world.send("coach", kid)
    assert status_rules(world, "coach", world.now) == set()


# ---- (c) low acceptance of requests to minors ----
ALLOW = (
    "[first_contact]\nadult_requests_to_minors = 'allow'\n"
    "[suspicious_adult]\nfanout_day_threshold = 50\nfanout_week_threshold = 50\n"
)


@pytest.mark.parametrize(
    ("requests", "accepted", "flagged"),
    [(4, 0, False), (5, 1, False), (5, 0, True), (6, 1, True), (10, 2, False), (10, 1, True)],
)
def test_acceptance_threshold(requests: int, accepted: int, flagged: bool) -> None:
    w = World(parse_policy(ALLOW))
    w.adult("bob")
    kids = minors(w, requests)
    at = w.now
    for i, kid in enumerate(kids):
        at = w.now + (i // 2) * DAY  # 2 a day: below both fan-out thresholds
        assert not refused(w.request("bob", kid, at=at))
    for kid in kids[:accepted]:
        w.engine.record(ContactAccepted(kid, "bob", at))
    # pending requests count once they have waited 3 days (acceptance_pending_days)
    assert "R3c-low-acceptance" not in status_rules(w, "bob", at + 3 * DAY - (at - w.now) - 1)
    assert ("R3c-low-acceptance" in status_rules(w, "bob", at + 3 * DAY)) is flagged


def test_declined_requests_count_at_once() -> None:
    w = World(parse_policy(ALLOW))
    w.adult("bob")
    kids = minors(w, 5)
    for i, kid in enumerate(kids):
        w.request("bob", kid, at=w.now + (i // 2) * DAY)
    at = w.now + 2 * DAY
    for kid in kids[:4]:
        w.engine.record(ContactDeclined(kid, "bob", at))
    assert "R3c-low-acceptance" not in status_rules(w, "bob", at)  # 4 decided, 1 pending
    decisions = w.engine.record(ContactDeclined(kids[4], "bob", at + 1))
    assert "R3c-low-acceptance" in status_rules(w, "bob", at + 1)
    assert of(decisions, Action.RESTRICT, "R3c-low-acceptance")


def test_refused_requests_count_as_unaccepted_under_the_default_policy(world: World) -> None:
    world.adult("bob")
    for i, kid in enumerate(minors(world, 5)):
        assert refused(world.request("bob", kid, at=world.now + (i // 2) * DAY))
    status = world.engine.suspicious_adult_status("bob", world.now + 2 * DAY)
    assert "R3c-low-acceptance" in {r.value for r in status.rule_ids}
    assert "0 of 5 contact requests to minors accepted (0%)" in status.explain()


# ---- (d) new account mostly contacting minors ----
@pytest.mark.parametrize(
    ("n_adults", "n_minors", "flagged"), [(2, 3, True), (3, 3, False), (0, 2, False)]
)
def test_new_account_share(world: World, n_adults: int, n_minors: int, flagged: bool) -> None:
    world.adult("new", age_days=3)
    for i in range(n_adults):
        world.send("new", world.adult(f"grown{i}"))
    for kid in minors(world, n_minors):
        world.send("new", kid)
    assert ("R3d-new-account-minors" in status_rules(world, "new", world.now)) is flagged


def test_new_account_criterion_ends_at_7_days(world: World) -> None:
    world.adult("new", age_days=3)
    for kid in minors(world, 3):
        world.send("new", kid)
    assert "R3d-new-account-minors" in status_rules(world, "new", world.now + 4 * DAY - 1)
    assert "R3d-new-account-minors" not in status_rules(world, "new", world.now + 4 * DAY)


def test_old_account_is_not_new(world: World) -> None:
    world.adult("old", age_days=7)
    for kid in minors(world, 3):
        world.send("old", kid)
    assert status_rules(world, "old", world.now) == set()


# ---- (e) linked to an account banned for child safety ----
@pytest.mark.parametrize("link_first", [True, False])
def test_linked_to_banned(world: World, link_first: bool) -> None:
    world.adult("bob")
    world.adult("old")
    events = [
        AccountLinked("bob", "old", world.now, LinkKind.RECREATED),
        AccountBanned("old", world.now, BanReason.CHILD_SAFETY),
    ]
    decisions = []
    for ev in events if link_first else events[::-1]:
        decisions += world.engine.record(ev)
    [d] = of(decisions, Action.RESTRICT)
    assert d.rule_id is RuleId.LINKED_BANNED
    assert "'old'" in d.explanation
    assert status_rules(world, "bob", world.now + 365 * DAY) == {"R3e-linked-banned"}


@pytest.mark.parametrize(
    ("kind", "reason"),
    [(LinkKind.SAME_DEVICE, BanReason.SPAM), (LinkKind.FAMILY, BanReason.CHILD_SAFETY)],
)
def test_other_links_and_bans_do_not_flag(world: World, kind: LinkKind, reason: BanReason) -> None:
    world.adult("bob")
    world.adult("old")
    world.engine.record(AccountLinked("bob", "old", world.now, kind))
    assert world.engine.record(AccountBanned("old", world.now, reason)) == []
    assert status_rules(world, "bob", world.now) == set()


# ---- (f) no mutual contacts + different country + account < 30 days ----
@pytest.mark.parametrize(
    ("country", "age_days", "flagged"), [("US", 29, True), ("US", 30, False), ("GB", 1, False)]
)
def test_cross_border_new_account(
    world: World, country: str, age_days: float, flagged: bool
) -> None:
    world.adult("bob", country=country, age_days=age_days)
    world.minor("amy", country="GB")
    world.send("bob", "amy")
    assert ("R3f-cross-border-new" in status_rules(world, "bob", world.now)) is flagged


def test_cross_border_needs_no_mutual_contacts(world: World) -> None:
    world.adult("bob", country="US", age_days=10)
    world.adult("mum")
    world.minor("amy")
    world.connect("amy", "mum")
    world.connect("mum", "bob")
    world.send("bob", "amy")
    assert status_rules(world, "bob", world.now) == set()


# ---- actions: hidden, blocked, notices, review ----
def test_two_criteria_queue_a_review_once(world: World) -> None:
    world.adult("bob", country="US", age_days=10)
    world.minor("amy")
    world.minor("ben")
    first = world.send("bob", "amy")
    assert {d.rule_id.value for d in of(first, Action.RESTRICT)} == {"R3f-cross-border-new"}
    assert not of(first, Action.QUEUE_REVIEW)
    second = world.engine.record(Blocked("ben", "bob", world.now + 1))
    [restrict] = of(second, Action.RESTRICT)
    assert restrict.rule_id is RuleId.MINOR_COMPLAINT
    [review] = of(second, Action.QUEUE_REVIEW)
    assert review.rule_id is RuleId.SUSPICIOUS_REVIEW
    assert review.subject == "bob"
    assert "2 suspicious-adult criteria" in review.explanation
    assert "(threshold 2)" in review.explanation
    third = world.engine.record(Reported("amy", "bob", world.now + 2))
    assert not of(third, Action.QUEUE_REVIEW, "R3-review")


def test_flag_notifies_minors_in_existing_chats_and_blocks_new_contact(world: World) -> None:
    world.adult("bob")
    world.adult("old")
    world.minor("amy")
    world.minor("zoe")
    world.minor("new")
    world.connect("amy", "bob")
    world.send("zoe", "bob")  # zoe started a chat with bob
    world.engine.record(AccountLinked("bob", "old", world.now, LinkKind.SAME_DEVICE))
    decisions = world.engine.record(AccountBanned("old", world.now, BanReason.CHILD_SAFETY))
    notices = of(decisions, Action.SAFETY_NOTICE, "R4a-suspicious-adult-notice")
    assert sorted(d.notify or "" for d in notices) == ["amy", "zoe"]
    assert all(d.notice is NoticeKind.SUSPICIOUS_ADULT and d.subject == "bob" for d in notices)
    # existing chat continues, without a second notice inside the cooldown
    assert world.send("bob", "amy", at=world.now + HOUR) == []
    # blocked from new minors, both ways, and hidden from them
    assert of(world.request("bob", "new"), Action.REFUSE, "R3-blocked-from-minors")
    assert of(world.send("new", "bob"), Action.REFUSE, "R3-blocked-from-minors")
    assert of(world.request("new", "bob"), Action.REFUSE, "R3-blocked-from-minors")
    assert not world.engine.discoverable("new", "bob", world.now)
    assert world.engine.discoverable(world.adult("grown"), "bob", world.now)


def test_pending_request_from_a_minor_cannot_be_completed_once_flagged(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    world.minor("zoe")
    assert world.request("amy", "bob") == []
    world.engine.record(Blocked("zoe", "bob", world.now))
    [d] = world.engine.record(ContactAccepted("bob", "amy", world.now + 1))
    assert d.action is Action.REFUSE and d.rule_id is RuleId.SUSPICIOUS_BLOCK
    assert "R3a-minor-complaint" in d.explanation
    assert refused(world.send("bob", "amy", at=world.now + 2))


def test_flag_lapses_and_is_announced_again(world: World) -> None:
    world.adult("bob")
    world.minor("amy")
    world.minor("ben")
    assert of(world.engine.record(Blocked("amy", "bob", world.now)), Action.RESTRICT)
    later = world.now + 31 * DAY
    assert not world.engine.suspicious_adult_status("bob", later).suspicious
    assert world.engine.discoverable("ben", "bob", later)
    assert of(world.engine.record(Blocked("ben", "bob", later)), Action.RESTRICT)


def test_minors_are_never_suspicious_adults(world: World) -> None:
    world.minor("teen")
    for kid in minors(world, 6):
        world.request("teen", kid)
    status = world.engine.suspicious_adult_status("teen", world.now)
    assert not status.suspicious
    assert not status.is_adult
