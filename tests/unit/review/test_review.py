"""Review queue: state machine, roles, ordering, store concurrency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fulcrum.franking import ReasonCode, attest_report, verify_report
from fulcrum.hazmat.signing import SigningKey
from fulcrum.review import (
    TRANSITIONS,
    ActionKind,
    ActionNotAllowed,
    Case,
    CaseKind,
    CaseNotFound,
    CaseState,
    DuplicateCase,
    InMemoryCaseStore,
    NotAuthorised,
    Priority,
    Reviewer,
    ReviewerAction,
    ReviewError,
    Role,
    StaleCase,
    act,
    allowed_actions,
    apply_action,
    case_for_report,
    queue_for,
    queue_order,
)

from ..franking.world import World, conversation, report

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
ALICE = Reviewer("rev-alice", Role.REVIEWER)
SENIOR = Reviewer("rev-sam", Role.SENIOR_REVIEWER)
ADMIN = Reviewer("adm-ada", Role.ADMIN)


def case(
    cid: str = "c1",
    reason: ReasonCode = ReasonCode.HARASSMENT,
    child: bool = False,
    minutes: int = 0,
    kind: CaseKind = CaseKind.USER_REPORT,
) -> Case:
    return Case(cid, kind, reason, child, T + timedelta(minutes=minutes), "mallory")


def do(c: Case, kind: ActionKind, who: Reviewer, minutes: int = 5, **kw: object) -> Case:
    return apply_action(
        c, ReviewerAction(kind, who.reviewer_id, T + timedelta(minutes=minutes), **kw), who
    )  # type: ignore[arg-type]


def test_priority_child_first_then_terrorism() -> None:
    assert case(child=True, reason=ReasonCode.SPAM).priority is Priority.CHILD_SAFETY
    assert case(reason=ReasonCode.CHILD_SAFETY).priority is Priority.CHILD_SAFETY
    assert case(reason=ReasonCode.TERRORISM).priority is Priority.TERRORISM
    assert Priority.CHILD_SAFETY < Priority.TERRORISM < Priority.HARASSMENT < Priority.SPAM


def test_queue_order() -> None:
    spam_old = case("spam", ReasonCode.SPAM, minutes=-100)
    harass = case("harass", ReasonCode.HARASSMENT, minutes=10)
    terror = case("terror", ReasonCode.TERRORISM, minutes=20)
    child_new = case("child-new", ReasonCode.OTHER, child=True, minutes=30)
    child_old = case("child-old", ReasonCode.CHILD_SAFETY, minutes=25, kind=CaseKind.MEDIA_MATCH)
    actioned = do(
        case("child-actioned", ReasonCode.CHILD_SAFETY, minutes=40),
        ActionKind.SUSPEND_SENDER,
        ALICE,
        45,
    )
    closed = do(case("closed", ReasonCode.CHILD_SAFETY, minutes=-500), ActionKind.WARN, ALICE, 1)
    cases = [spam_old, harass, terror, child_new, closed, child_old, actioned]
    order = [c.case_id for c in queue_order(cases)]
    assert order == ["child-actioned", "child-old", "child-new", "terror", "harass", "spam"]
    assert "child-actioned" not in [c.case_id for c in queue_for(ALICE, cases)]
    assert [c.case_id for c in queue_for(SENIOR, cases)] == order


def test_transition_table_and_closed_is_final() -> None:
    for kind in ActionKind:
        c = do(case(), ActionKind.DISMISS, ALICE)
        assert c.closed
        with pytest.raises(ActionNotAllowed):
            do(c, kind, ADMIN, 10)
    assert TRANSITIONS[CaseState.CLOSED] == {}


def test_full_child_safety_path() -> None:
    c = case(reason=ReasonCode.CHILD_SAFETY)
    c = do(c, ActionKind.SUSPEND_SENDER, ALICE, 5, viewed_content=True)
    assert c.state is CaseState.ACTIONED
    assert c.content_viewed_by_human
    with pytest.raises(NotAuthorised):
        do(c, ActionKind.ESCALATE_CLEARINGHOUSE, ALICE, 6)
    with pytest.raises(NotAuthorised):
        do(c, ActionKind.CLOSE, ALICE, 6)  # a senior decides on escalation for child safety
    c = do(c, ActionKind.ESCALATE_CLEARINGHOUSE, SENIOR, 7)
    assert c.state is CaseState.ESCALATED
    with pytest.raises(ActionNotAllowed):
        do(c, ActionKind.WARN, SENIOR, 8)
    c = do(c, ActionKind.CLOSE, SENIOR, 9, note="filed")
    assert c.closed
    assert c.version == 3
    assert [a.reviewer_id for a in c.history] == ["rev-alice", "rev-sam", "rev-sam"]


def test_role_rules() -> None:
    child = case(child=True)
    assert ActionKind.DISMISS not in allowed_actions(child, ALICE)
    assert ActionKind.ESCALATE_CLEARINGHOUSE not in allowed_actions(child, ALICE)
    assert allowed_actions(child, ADMIN) == frozenset(TRANSITIONS[CaseState.OPEN])
    with pytest.raises(NotAuthorised):
        do(child, ActionKind.DISMISS, ALICE)
    assert do(child, ActionKind.DISMISS, SENIOR).closed
    plain = do(case(), ActionKind.SUSPEND_SENDER, ALICE)
    assert do(plain, ActionKind.CLOSE, ALICE, 6).closed


def test_action_integrity() -> None:
    c = case()
    with pytest.raises(ReviewError):
        apply_action(c, ReviewerAction(ActionKind.WARN, "someone-else", T), ALICE)
    with pytest.raises(ReviewError):
        apply_action(c, ReviewerAction(ActionKind.WARN, ALICE.reviewer_id, T - timedelta(1)), ALICE)
    with pytest.raises(ReviewError):
        apply_action(
            c, ReviewerAction(ActionKind.WARN, ALICE.reviewer_id, datetime(2026, 11, 4)), ALICE
        )
    with pytest.raises(ReviewError):
        Case("c", CaseKind.RULE_HIT, ReasonCode.OTHER, True, datetime(2026, 1, 1), "x")


def test_store_and_optimistic_concurrency() -> None:
    store = InMemoryCaseStore()
    store.add(case("a"))
    store.add(case("b", ReasonCode.TERRORISM, minutes=1))
    with pytest.raises(DuplicateCase):
        store.add(case("a"))
    with pytest.raises(CaseNotFound):
        store.get("zzz")
    assert [c.case_id for c in store.queued()] == ["b", "a"]
    stale = store.get("a")
    act(
        store,
        "a",
        ReviewerAction(ActionKind.SUSPEND_SENDER, ALICE.reviewer_id, T + timedelta(minutes=1)),
        ALICE,
    )
    with pytest.raises(StaleCase):
        store.replace(do(stale, ActionKind.WARN, ALICE), expected_version=stale.version)
    assert store.get("a").state is CaseState.ACTIONED
    assert [c.case_id for c in store.for_subject("mallory")] == ["a", "b"]


def test_case_from_verified_report() -> None:
    w = World()
    msgs = conversation(w, 4)
    r = report("bob", msgs, [msgs[2]], reason=ReasonCode.OTHER, involves_child=True)
    att = attest_report(r, verify_report(r, w.keyring, w.now), SigningKey.generate(), w.now)
    c = case_for_report("case-9", r, w.now, att)
    assert c.subject_account == "alice"
    assert c.priority is Priority.CHILD_SAFETY
    assert [(e.kind, e.ref) for e in c.evidence] == [("report", "rep-1"), ("attestation", "rep-1")]
