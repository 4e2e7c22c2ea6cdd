"""SQL implementations for the review queue: ``SqlCaseStore`` (a ``fulcrum.review.CaseStore``),
reviewer accounts (bearer tokens stored as SHA-256 only) and stored reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fulcrum.franking import ReasonCode
from fulcrum.review.actions import ActionKind, ReviewerAction, Role
from fulcrum.review.actions import Reviewer as ReviewerIdentity
from fulcrum.review.case import Case, CaseKind, CaseState, EvidenceRef
from fulcrum.review.errors import CaseNotFound, DuplicateCase, StaleCase
from fulcrum.review.queue import QUEUED_STATES, queue_order
from fulcrum.store.franking import Report, ReportItem, ReviewAction, ReviewCase, Reviewer

ROLE_NAMES = {"reviewer": Role.REVIEWER, "senior": Role.SENIOR_REVIEWER, "admin": Role.ADMIN}


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class SqlCaseStore:
    """Cases and their action history in ``review_cases`` / ``review_actions``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, case: Case) -> None:
        if self.session.get(ReviewCase, case.case_id) is not None:
            raise DuplicateCase(case.case_id)
        self.session.add(
            ReviewCase(
                case_id=case.case_id,
                kind=case.kind.value,
                reason=case.reason.value,
                involves_child=case.involves_child,
                priority=int(case.priority),
                state=case.state.value,
                created_at=_ms(case.created_at),
                subject_account=case.subject_account,
                evidence=[{"kind": e.kind, "ref": e.ref} for e in case.evidence],
                version=case.version,
                clearinghouse_xml=None,
            )
        )
        self._add_actions(case.case_id, case.history, 0)
        self.session.flush()

    def _add_actions(self, case_id: str, actions: tuple[ReviewerAction, ...], start: int) -> None:
        for pos, a in enumerate(actions[start:], start=start):
            self.session.add(
                ReviewAction(
                    case_id=case_id,
                    position=pos,
                    kind=a.kind.value,
                    reviewer_id=a.reviewer_id,
                    at=_ms(a.at),
                    note=a.note,
                    viewed_content=a.viewed_content,
                )
            )

    def _load(self, row: ReviewCase) -> Case:
        actions = self.session.scalars(
            select(ReviewAction)
            .where(ReviewAction.case_id == row.case_id)
            .order_by(ReviewAction.position)
        ).all()
        return Case(
            case_id=row.case_id,
            kind=CaseKind(row.kind),
            reason=ReasonCode(row.reason),
            involves_child=row.involves_child,
            created_at=_dt(row.created_at),
            subject_account=row.subject_account,
            evidence=tuple(EvidenceRef(e["kind"], e["ref"]) for e in row.evidence),
            state=CaseState(row.state),
            history=tuple(
                ReviewerAction(
                    kind=ActionKind(a.kind),
                    reviewer_id=a.reviewer_id,
                    at=_dt(a.at),
                    note=a.note,
                    viewed_content=a.viewed_content,
                )
                for a in actions
            ),
        )

    def get(self, case_id: str) -> Case:
        row = self.session.get(ReviewCase, case_id)
        if row is None:
            raise CaseNotFound(case_id)
        return self._load(row)

    def replace(self, case: Case, *, expected_version: int) -> None:
        result = self.session.execute(
            update(ReviewCase)
            .where(ReviewCase.case_id == case.case_id, ReviewCase.version == expected_version)
            .values(state=case.state.value, version=case.version)
        )
        if not getattr(result, "rowcount", 0):
            if self.session.get(ReviewCase, case.case_id) is None:
                raise CaseNotFound(case.case_id)
            raise StaleCase(f"{case.case_id} changed since version {expected_version}")
        self._add_actions(case.case_id, case.history, expected_version)
        self.session.flush()

    def queued(self) -> list[Case]:
        rows = self.session.scalars(
            select(ReviewCase).where(ReviewCase.state.in_([s.value for s in QUEUED_STATES]))
        ).all()
        return queue_order(self._load(r) for r in rows)

    def for_subject(self, account: str) -> list[Case]:
        rows = self.session.scalars(
            select(ReviewCase)
            .where(ReviewCase.subject_account == account)
            .order_by(ReviewCase.created_at, ReviewCase.case_id)
        ).all()
        return [self._load(r) for r in rows]

    def set_clearinghouse_draft(self, case_id: str, xml: str) -> None:
        self.session.execute(
            update(ReviewCase).where(ReviewCase.case_id == case_id).values(clearinghouse_xml=xml)
        )

    def clearinghouse_draft(self, case_id: str) -> str | None:
        row = self.session.get(ReviewCase, case_id)
        return None if row is None else row.clearinghouse_xml


@dataclass(frozen=True)
class StoredReport:
    report: Report
    items: list[ReportItem]


class ReviewerDirectory:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, name: str, role: str, token_hash: str, now_ms: int) -> None:
        if role not in ROLE_NAMES:
            raise ValueError(f"unknown role {role!r}; one of {sorted(ROLE_NAMES)}")
        if self.session.get(Reviewer, name) is not None:
            raise ValueError(f"reviewer {name!r} already exists")
        self.session.add(Reviewer(name=name, role=role, token_hash=token_hash, created_at=now_ms))
        self.session.flush()

    def by_token_hash(self, token_hash: str) -> ReviewerIdentity | None:
        row = self.session.scalar(select(Reviewer).where(Reviewer.token_hash == token_hash))
        return None if row is None else ReviewerIdentity(row.name, ROLE_NAMES[row.role])


class ReportArchive:
    def __init__(self, session: Session) -> None:
        self.session = session

    def exists(self, report_id: str) -> bool:
        return self.session.get(Report, report_id) is not None

    def reported_msg_ids(self, msg_ids: list[str]) -> set[str]:
        """Which of these messages were already chosen in an earlier verified report."""
        if not msg_ids:
            return set()
        rows = self.session.scalars(
            select(ReportItem.msg_id)
            .join(Report, Report.report_id == ReportItem.report_id)
            .where(
                ReportItem.msg_id.in_(msg_ids),
                ReportItem.chosen.is_(True),
                Report.verified.is_(True),
            )
        )
        return set(rows)

    def add(self, report: Report, items: list[ReportItem]) -> None:
        self.session.add(report)
        self.session.flush()
        self.session.add_all(items)
        self.session.flush()

    def get(self, report_id: str) -> StoredReport | None:
        report = self.session.get(Report, report_id)
        if report is None:
            return None
        items = self.session.scalars(
            select(ReportItem)
            .where(ReportItem.report_id == report_id)
            .order_by(ReportItem.position)
        ).all()
        return StoredReport(report, list(items))
