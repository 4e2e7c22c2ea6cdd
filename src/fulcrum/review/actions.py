"""Reviewer actions and the case state machine.

    OPEN      --dismiss / warn--> CLOSED
    OPEN      --suspend_sender--> ACTIONED
    OPEN      --escalate_clearinghouse (senior)--> ESCALATED
    ACTIONED  --escalate_clearinghouse (senior)--> ESCALATED
    ACTIONED  --close--> CLOSED            (senior for child-safety cases)
    ESCALATED --close (senior, once filed)--> CLOSED
    CLOSED    -- nothing --

Dismissing a child-safety case also needs a senior reviewer. Roles are ordered:
reviewer < senior_reviewer < admin.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, IntEnum

from fulcrum.review.case import Case, CaseState, Priority
from fulcrum.review.errors import ActionNotAllowed, NotAuthorised, ReviewError


class ActionKind(Enum):
    DISMISS = "dismiss"
    WARN = "warn"
    SUSPEND_SENDER = "suspend_sender"
    ESCALATE_CLEARINGHOUSE = "escalate_clearinghouse"
    CLOSE = "close"


class Role(IntEnum):
    REVIEWER = 1
    SENIOR_REVIEWER = 2
    ADMIN = 3


@dataclass(frozen=True)
class Reviewer:
    reviewer_id: str
    role: Role


@dataclass(frozen=True)
class ReviewerAction:
    kind: ActionKind
    reviewer_id: str
    at: datetime
    note: str = ""
    viewed_content: bool = False  # the reviewer looked at the reported content itself


TRANSITIONS: dict[CaseState, dict[ActionKind, CaseState]] = {
    CaseState.OPEN: {
        ActionKind.DISMISS: CaseState.CLOSED,
        ActionKind.WARN: CaseState.CLOSED,
        ActionKind.SUSPEND_SENDER: CaseState.ACTIONED,
        ActionKind.ESCALATE_CLEARINGHOUSE: CaseState.ESCALATED,
    },
    CaseState.ACTIONED: {
        ActionKind.ESCALATE_CLEARINGHOUSE: CaseState.ESCALATED,
        ActionKind.CLOSE: CaseState.CLOSED,
    },
    CaseState.ESCALATED: {ActionKind.CLOSE: CaseState.CLOSED},
    CaseState.CLOSED: {},
}


def required_role(case: Case, kind: ActionKind) -> Role:
    child = case.priority is Priority.CHILD_SAFETY
    if kind is ActionKind.ESCALATE_CLEARINGHOUSE:
        return Role.SENIOR_REVIEWER
    if kind is ActionKind.CLOSE and (case.state is CaseState.ESCALATED or child):
        return Role.SENIOR_REVIEWER
    if kind is ActionKind.DISMISS and child:
        return Role.SENIOR_REVIEWER
    return Role.REVIEWER


def allowed_actions(case: Case, reviewer: Reviewer) -> frozenset[ActionKind]:
    return frozenset(
        kind for kind in TRANSITIONS[case.state] if reviewer.role >= required_role(case, kind)
    )


def apply_action(case: Case, action: ReviewerAction, reviewer: Reviewer) -> Case:
    """The case after ``action``; raises if the state or the reviewer's role forbids it."""
    if action.reviewer_id != reviewer.reviewer_id:
        raise ReviewError("the action must be taken by the reviewer presenting it")
    if action.at.tzinfo is None:
        raise ReviewError("action time must be timezone-aware")
    earliest = case.history[-1].at if case.history else case.created_at
    if action.at < earliest:
        raise ReviewError("actions cannot predate the case or its last action")
    target = TRANSITIONS[case.state].get(action.kind)
    if target is None:
        raise ActionNotAllowed(f"{action.kind.value} is not allowed on a {case.state.value} case")
    needed = required_role(case, action.kind)
    if reviewer.role < needed:
        raise NotAuthorised(f"{action.kind.value} here needs the {needed.name.lower()} role")
    return dataclasses.replace(case, state=target, history=(*case.history, action))
