"""Contacts (requests, accept, decline, block), directory search and public rule statistics."""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import or_, select

from fulcrum.safety import (
    Blocked,
    ContactAccepted,
    ContactDeclined,
    ContactRequested,
    SafetyEngine,
    Surface,
)
from fulcrum.safety.store import ConnectionStatus
from fulcrum.server.auth import authenticated_device
from fulcrum.server.errors import conflict, error_responses, invalid, not_found
from fulcrum.server.relay.common import now_ms, state_of
from fulcrum.server.safety.service import SafetyService
from fulcrum.store import DeviceRecord
from fulcrum.store.models import Account
from fulcrum.store.safety import PLATFORM_SENDER, SafetyConnection
from fulcrum.wire.safety import (
    ContactBlock,
    ContactEntry,
    ContactList,
    ContactRequestCreate,
    ContactRequestInfo,
    DirectoryResults,
    RuleStatsOut,
)

router = APIRouter(tags=["safety"])
Caller = Depends(authenticated_device)
SEARCH_LIMIT = 20


def service_of(request: Request) -> SafetyService:
    service = state_of(request).features["safety"]
    assert isinstance(service, SafetyService)
    return service


def _info(row: SafetyConnection) -> ContactRequestInfo:
    return ContactRequestInfo(
        request_id=row.request_id or "",
        requester=row.requester,
        recipient=row.recipient,
        status=row.status,
    )


@router.post(
    "/contacts/requests",
    status_code=201,
    response_model=ContactRequestInfo,
    responses=error_responses(401, 403, 404, 409),
)
def request_contact(
    body: ContactRequestCreate, request: Request, caller: DeviceRecord = Caller
) -> ContactRequestInfo:
    """Ask ``to`` to become a connection. Refused (403 ``safety_refused``, with the rule's
    explanation) for an adult asking a minor, or for anyone a rule marks suspicious."""
    if body.to == caller.account:
        raise invalid("an account cannot send itself a contact request")
    service, ts = service_of(request), now_ms()
    with state_of(request).db.write() as session:
        store = service.store(session)
        if store.account(body.to) is None:
            raise not_found("no such account")
        existing = store.connection_row(caller.account, body.to)
        if existing is not None and existing.status == ConnectionStatus.ACCEPTED.value:
            raise conflict("already connected", "already_connected")
        event = ContactRequested(caller.account, body.to, ts / 1000.0)
        engine = SafetyEngine(store, service.policy)
        applied = service.apply(session, event, ts, engine)
        service.refuse_if_needed(applied, event)
        row = store.connection_row(caller.account, body.to)
        if row is None:
            raise conflict("the request was not recorded")
        if row.request_id is None or row.requester == caller.account:
            row.request_id = row.request_id or secrets.token_urlsafe(12)
        return _info(row)


def _decide(
    request: Request, caller: DeviceRecord, request_id: str, accept: bool
) -> SafetyConnection:
    service, ts = service_of(request), now_ms()
    with state_of(request).db.write() as session:
        row = session.scalar(
            select(SafetyConnection).where(SafetyConnection.request_id == request_id)
        )
        if row is None or row.recipient != caller.account:
            raise not_found("no such contact request")
        if row.status != ConnectionStatus.PENDING.value:
            raise conflict(f"the request is already {row.status}", "already_decided")
        at = ts / 1000.0
        event = (
            ContactAccepted(caller.account, row.requester, at)
            if accept
            else ContactDeclined(caller.account, row.requester, at)
        )
        applied = service.apply(session, event, ts)
        service.refuse_if_needed(applied, event)
        session.refresh(row)
        return row


@router.post(
    "/contacts/requests/{request_id}/accept",
    response_model=ContactRequestInfo,
    responses=error_responses(401, 403, 404, 409),
)
def accept_contact(
    request_id: str, request: Request, caller: DeviceRecord = Caller
) -> ContactRequestInfo:
    """Accept a pending request addressed to the caller."""
    return _info(_decide(request, caller, request_id, accept=True))


@router.post(
    "/contacts/requests/{request_id}/decline",
    response_model=ContactRequestInfo,
    responses=error_responses(401, 404, 409),
)
def decline_contact(
    request_id: str, request: Request, caller: DeviceRecord = Caller
) -> ContactRequestInfo:
    """Decline a pending request addressed to the caller."""
    return _info(_decide(request, caller, request_id, accept=False))


@router.post("/contacts/block", status_code=204, responses=error_responses(401, 404))
def block_contact(body: ContactBlock, request: Request, caller: DeviceRecord = Caller) -> None:
    """Block an account: it can no longer message, request or find the caller."""
    if body.account == caller.account:
        raise invalid("an account cannot block itself")
    service, ts = service_of(request), now_ms()
    with state_of(request).db.write() as session:
        if service.store(session).account(body.account) is None:
            raise not_found("no such account")
        service.apply(session, Blocked(caller.account, body.account, ts / 1000.0), ts)


@router.get("/contacts", response_model=ContactList, responses=error_responses(401))
def list_contacts(request: Request, caller: DeviceRecord = Caller) -> ContactList:
    """The caller's own connections and pending requests (nobody else's list is readable)."""
    me = caller.account
    with state_of(request).db.read() as session:
        rows = session.scalars(
            select(SafetyConnection)
            .where(or_(SafetyConnection.a == me, SafetyConnection.b == me))
            .order_by(SafetyConnection.a, SafetyConnection.b)
        ).all()
        out = [
            ContactEntry(
                account=r.recipient if r.requester == me else r.requester,
                status=r.status,
                direction="outgoing" if r.requester == me else "incoming",
                request_id=r.request_id,
            )
            for r in rows
        ]
    return ContactList(contacts=out)


@router.get("/directory/search", response_model=DirectoryResults, responses=error_responses(401))
def search_directory(
    request: Request,
    q: str = Query(min_length=1, max_length=32, pattern=r"^[a-z0-9_.-]+$"),
    caller: DeviceRecord = Caller,
) -> DirectoryResults:
    """Accounts whose name starts with ``q``; minors are shown only to their connections and
    suspicious adults are not shown to minors (rule 2, rule 3)."""
    service, ts = service_of(request), now_ms()
    with state_of(request).db.write() as session:
        names = list(
            session.scalars(
                select(Account.name)
                .where(Account.name.startswith(q, autoescape=True), Account.name != PLATFORM_SENDER)
                .order_by(Account.name)
                .limit(SEARCH_LIMIT * 3)
            )
        )
        engine = service.engine(session, [caller.account, *names])
        shown: list[str] = []
        for name in names:
            hidden = engine.explain_discoverable(caller.account, name, ts / 1000.0, Surface.SEARCH)
            if hidden is None:
                shown.append(name)
            if len(shown) == SEARCH_LIMIT:
                break
    return DirectoryResults(accounts=shown)


@router.get("/safety/stats", response_model=RuleStatsOut, responses=error_responses(422))
def safety_stats(
    request: Request,
    days: int = Query(default=30, ge=1, le=366),
    day: int | None = Query(default=None, ge=0, description="one UTC day (POSIX seconds // 86400)"),
) -> RuleStatsOut:
    """Public aggregate counts of rule decisions per rule and action (no accounts, no events):
    the last ``days`` UTC days, or the one UTC ``day`` (what the transparency log holds for it)."""
    service = service_of(request)
    end = time.time()
    start = end - (days - 1) * 86400.0
    if day is not None:
        start = end = day * 86400.0
    with state_of(request).db.read() as session:
        stats = service.engine(session).rule_stats(start, end)
    data = stats.to_json()
    return RuleStatsOut(
        first_day=stats.first_day,
        last_day=stats.last_day,
        counts=data["counts"],
    )
