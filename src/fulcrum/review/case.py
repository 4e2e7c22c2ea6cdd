"""Review cases: one per thing a human must look at (a user report, a media match, a rule hit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, IntEnum
from typing import TYPE_CHECKING

from fulcrum.franking import AbuseReport, ReasonCode, ReportAttestation
from fulcrum.review.errors import ReviewError

if TYPE_CHECKING:
    from fulcrum.review.actions import ReviewerAction


class CaseKind(Enum):
    USER_REPORT = "user_report"
    MEDIA_MATCH = "media_match"
    RULE_HIT = "rule_hit"


class CaseState(Enum):
    OPEN = "open"  # waiting for a first decision
    ACTIONED = "actioned"  # sender suspended; escalation or closure still to decide
    ESCALATED = "escalated"  # clearinghouse report to be filed
    CLOSED = "closed"  # final: nothing more can be done on this case


class Priority(IntEnum):
    """Lower sorts first. Anything involving a child outranks everything else."""

    CHILD_SAFETY = 0
    TERRORISM = 1
    HARASSMENT = 2
    OTHER = 3
    SPAM = 4


_BY_REASON = {
    ReasonCode.CHILD_SAFETY: Priority.CHILD_SAFETY,
    ReasonCode.TERRORISM: Priority.TERRORISM,
    ReasonCode.HARASSMENT: Priority.HARASSMENT,
    ReasonCode.OTHER: Priority.OTHER,
    ReasonCode.SPAM: Priority.SPAM,
}


def priority_for(reason: ReasonCode, involves_child: bool) -> Priority:
    return Priority.CHILD_SAFETY if involves_child else _BY_REASON[reason]


@dataclass(frozen=True)
class EvidenceRef:
    """A pointer to evidence held elsewhere: ``kind`` is e.g. "report", "attestation",
    "match", "rule_decision"; ``ref`` is that record's id."""

    kind: str
    ref: str


@dataclass(frozen=True)
class Case:
    case_id: str
    kind: CaseKind
    reason: ReasonCode
    involves_child: bool
    created_at: datetime
    subject_account: str
    evidence: tuple[EvidenceRef, ...] = ()
    state: CaseState = CaseState.OPEN
    history: tuple[ReviewerAction, ...] = ()

    def __post_init__(self) -> None:
        if not self.case_id or not self.subject_account:
            raise ReviewError("a case needs an id and a subject account")
        if self.created_at.tzinfo is None:
            raise ReviewError("created_at must be timezone-aware")

    @property
    def priority(self) -> Priority:
        return priority_for(self.reason, self.involves_child)

    @property
    def version(self) -> int:
        """Bumped by every action; stores use it for optimistic concurrency."""
        return len(self.history)

    @property
    def closed(self) -> bool:
        return self.state is CaseState.CLOSED

    @property
    def content_viewed_by_human(self) -> bool:
        """True once a reviewer recorded looking at the reported content itself."""
        return any(a.viewed_content for a in self.history)


def case_for_report(
    case_id: str,
    report: AbuseReport,
    created_at: datetime,
    attestation: ReportAttestation | None = None,
) -> Case:
    """A user-report case. The subject is the sender of the first chosen message; reports from
    minors (``involves_child``) take the child-safety path."""
    first = next(m for m in report.messages if m.bundle.msg_id == report.chosen[0])
    evidence = [EvidenceRef("report", report.report_id)]
    if attestation is not None:
        evidence.append(EvidenceRef("attestation", attestation.report_id))
    return Case(
        case_id=case_id,
        kind=CaseKind.USER_REPORT,
        reason=report.reason,
        involves_child=report.involves_child,
        created_at=created_at,
        subject_account=first.bundle.env.sender,
        evidence=tuple(evidence),
    )
