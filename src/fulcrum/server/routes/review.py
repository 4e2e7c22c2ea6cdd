"""The review role: the case queue for reviewer accounts (bearer tokens stored as SHA-256).

Reviewers see only what a reporter submitted (the reported and context messages of the case's
report), never anything else. Every action is recorded with the reviewer and the time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import update
from sqlalchemy.orm import Session

from fulcrum.review import (
    ActionKind,
    ActionNotAllowed,
    Case,
    CaseNotFound,
    ClearinghouseReportDraft,
    IncidentType,
    NotAuthorised,
    ReportingPerson,
    Reviewer,
    ReviewerAction,
    StaleCase,
    act,
    queue_for,
)
from fulcrum.server.auth import TokenCache
from fulcrum.server.errors import ApiError, conflict, error_responses, not_found, unauthorized
from fulcrum.server.franking.filing import file_case
from fulcrum.server.franking.state import franking_state
from fulcrum.server.state import RelayState, relay_state
from fulcrum.store.franking import ClearinghouseFiling
from fulcrum.store.models import Account
from fulcrum.store.review import ReportArchive, ReviewerDirectory, SqlCaseStore
from fulcrum.wire.reports import (
    ActionOut,
    CaseActionIn,
    CaseDetail,
    CaseList,
    CaseSummary,
    ReviewedMessage,
)

bearer = HTTPBearer(auto_error=False, description="A reviewer token from `fulcrum reviewer create`")
PLATFORM_NAME = "Fulcrum"
_ACTIONS = {
    "dismiss": ActionKind.DISMISS,
    "warn": ActionKind.WARN,
    "suspend_sender": ActionKind.SUSPEND_SENDER,
    "escalate": ActionKind.ESCALATE_CLEARINGHOUSE,
    "close": ActionKind.CLOSE,
}


def authenticated_reviewer(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
) -> Reviewer:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    digest = hashlib.sha256(credentials.credentials.encode("utf-8")).hexdigest()
    with relay_state(request.app).db.read() as session:
        reviewer = ReviewerDirectory(session).by_token_hash(digest)
    if reviewer is None:
        raise unauthorized("not a reviewer token")
    request.state.account = f"reviewer:{reviewer.reviewer_id}"
    return reviewer


Caller = Depends(authenticated_reviewer)


def _summary(case: Case) -> CaseSummary:
    return CaseSummary(
        case_id=case.case_id,
        kind=case.kind.value,
        priority=int(case.priority),
        status=case.state.value,
        reason=case.reason.value,
        involves_child=case.involves_child,
        subject=case.subject_account,
        created_at=int(case.created_at.timestamp() * 1000),
    )


def _detail(session: Session, case: Case) -> CaseDetail:
    filing = session.get(ClearinghouseFiling, case.case_id)
    messages: list[ReviewedMessage] = []
    verified, attestation = False, None
    for ref in case.evidence:
        if ref.kind != "report":
            continue
        stored = ReportArchive(session).get(ref.ref)
        if stored is None:
            continue
        verified, attestation = stored.report.verified, stored.report.attestation
        messages.extend(
            ReviewedMessage(
                msg_id=i.msg_id,
                sender=i.sender,
                server_ts=i.server_ts,
                chosen=i.chosen,
                verdict=i.verdict,
                content_type=i.content_type,
                text=i.body.decode("utf-8", errors="replace"),
            )
            for i in stored.items
        )
    return CaseDetail(
        case=_summary(case),
        verified=verified,
        attestation=attestation,
        messages=messages,
        actions=[
            ActionOut(
                action=a.kind.value,
                actor=a.reviewer_id,
                at=int(a.at.timestamp() * 1000),
                note=a.note,
            )
            for a in case.history
        ],
        clearinghouse_xml=SqlCaseStore(session).clearinghouse_draft(case.case_id),
        clearinghouse_status=None if filing is None else filing.status,
        clearinghouse_report_id=None if filing is None else filing.external_id,
    )


def suspend_account(state: RelayState, session: Session, account: str) -> None:
    """Suspend an account: its devices are refused from now on (token cache dropped)."""
    session.execute(update(Account).where(Account.name == account).values(suspended=True))
    state.tokens = TokenCache(state.settings.auth_cache_seconds)


def _draft(case: Case, now: datetime) -> str:
    draft = ClearinghouseReportDraft(
        case=case,
        incident_type=IncidentType.ONLINE_ENTICEMENT
        if case.involves_child
        else IncidentType.MISLEADING_WORDS_OR_IMAGES,
        incident_at=case.created_at,
        platform_name=PLATFORM_NAME,
        reporter=ReportingPerson("Trust", "Safety", "safety@fulcrum.invalid"),
        additional_info=f"User report case {case.case_id} ({case.reason.value})",
    )
    return draft.report_xml().decode("utf-8")


def build_router() -> APIRouter:
    router = APIRouter(prefix="/review", tags=["review"])

    @router.get("/cases", response_model=CaseList, responses=error_responses(401))
    def list_cases(request: Request, reviewer: Reviewer = Caller) -> CaseList:
        """Cases needing a decision, most urgent first (child safety first)."""
        with relay_state(request.app).db.read() as session:
            cases = queue_for(reviewer, SqlCaseStore(session).queued())
        return CaseList(cases=[_summary(c) for c in cases])

    @router.get("/cases/{case_id}", response_model=CaseDetail, responses=error_responses(401, 404))
    def show_case(case_id: str, request: Request, reviewer: Reviewer = Caller) -> CaseDetail:
        """One case with the reported content (only what the reporter submitted)."""
        with relay_state(request.app).db.read() as session:
            try:
                case = SqlCaseStore(session).get(case_id)
            except CaseNotFound as exc:
                raise not_found("no such case") from exc
            return _detail(session, case)

    @router.post(
        "/cases/{case_id}/actions",
        response_model=CaseDetail,
        responses=error_responses(401, 403, 404, 409),
    )
    def act_on_case(
        case_id: str, body: CaseActionIn, request: Request, reviewer: Reviewer = Caller
    ) -> CaseDetail:
        """Dismiss, warn, suspend the sender, escalate (clearinghouse draft) or close a case."""
        state = relay_state(request.app)
        now = datetime.now(UTC)
        action = ReviewerAction(
            kind=_ACTIONS[body.action],
            reviewer_id=reviewer.reviewer_id,
            at=now,
            note=body.note,
            viewed_content=body.viewed_content,
        )
        with state.db.write() as session:
            store = SqlCaseStore(session)
            try:
                case = act(store, case_id, action, reviewer)
            except CaseNotFound as exc:
                raise not_found("no such case") from exc
            except NotAuthorised as exc:
                raise ApiError(403, "role_required", str(exc)) from exc
            except (ActionNotAllowed, StaleCase) as exc:
                raise conflict(str(exc), "action_not_allowed") from exc
            if action.kind is ActionKind.SUSPEND_SENDER:
                suspend_account(state, session, case.subject_account)
            if action.kind is ActionKind.ESCALATE_CLEARINGHOUSE:
                store.set_clearinghouse_draft(case.case_id, _draft(case, now))
            detail = _detail(session, case)
        if action.kind is ActionKind.ESCALATE_CLEARINGHOUSE:
            # Filed after the case change commits (no network call inside a transaction).
            settings = franking_state(state).clearinghouse
            if settings.configured:
                file_case(state, case.case_id, settings, now)
                with state.db.read() as session:
                    detail = _detail(session, case)
        return detail

    return router
