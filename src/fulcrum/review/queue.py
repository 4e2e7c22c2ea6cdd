"""Queue ordering and the case store interface (in-memory here; the server adds SQL).

Order: priority (child safety first), then cases already actioned and awaiting a senior decision,
then oldest first, then case id (stable).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from fulcrum.review.actions import Reviewer, ReviewerAction, Role, apply_action
from fulcrum.review.case import Case, CaseState
from fulcrum.review.errors import CaseNotFound, DuplicateCase, StaleCase

QUEUED_STATES = frozenset({CaseState.OPEN, CaseState.ACTIONED})


def _sort_key(case: Case) -> tuple[int, int, float, str]:
    awaiting = 0 if case.state is CaseState.ACTIONED else 1
    return (int(case.priority), awaiting, case.created_at.timestamp(), case.case_id)


def queue_order(cases: Iterable[Case]) -> list[Case]:
    """The cases that still need a decision, most urgent first."""
    return sorted((c for c in cases if c.state in QUEUED_STATES), key=_sort_key)


def queue_for(reviewer: Reviewer, cases: Iterable[Case]) -> list[Case]:
    """What this reviewer should see: plain reviewers get open cases; seniors and admins also
    get actioned cases waiting for an escalation decision."""
    ordered = queue_order(cases)
    if reviewer.role >= Role.SENIOR_REVIEWER:
        return ordered
    return [c for c in ordered if c.state is CaseState.OPEN]


class CaseStore(Protocol):
    def add(self, case: Case) -> None:
        """Store a new case; ``DuplicateCase`` if the id exists."""

    def get(self, case_id: str) -> Case:
        """The case; ``CaseNotFound`` if absent."""

    def replace(self, case: Case, *, expected_version: int) -> None:
        """Store a new version; ``StaleCase`` unless the stored version is ``expected_version``."""

    def queued(self) -> list[Case]:
        """Cases needing a decision, in ``queue_order``."""

    def for_subject(self, account: str) -> list[Case]:
        """Every case about ``account``, oldest first."""


class InMemoryCaseStore:
    """A ``CaseStore`` in a dict, for tests and single-process development."""

    def __init__(self) -> None:
        self._cases: dict[str, Case] = {}

    def add(self, case: Case) -> None:
        if case.case_id in self._cases:
            raise DuplicateCase(case.case_id)
        self._cases[case.case_id] = case

    def get(self, case_id: str) -> Case:
        try:
            return self._cases[case_id]
        except KeyError:
            raise CaseNotFound(case_id) from None

    def replace(self, case: Case, *, expected_version: int) -> None:
        current = self.get(case.case_id)
        if current.version != expected_version:
            raise StaleCase(f"{case.case_id}: version {current.version}, not {expected_version}")
        self._cases[case.case_id] = case

    def queued(self) -> list[Case]:
        return queue_order(self._cases.values())

    def for_subject(self, account: str) -> list[Case]:
        mine = (c for c in self._cases.values() if c.subject_account == account)
        return sorted(mine, key=lambda c: (c.created_at, c.case_id))


def act(store: CaseStore, case_id: str, action: ReviewerAction, reviewer: Reviewer) -> Case:
    """Load, apply and store one action (optimistic: a concurrent change raises ``StaleCase``)."""
    case = store.get(case_id)
    updated = apply_action(case, action, reviewer)
    store.replace(updated, expected_version=case.version)
    return updated
