"""``POST /v1/reports``: verify a user's abuse report, store it, attest it, open a review case."""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from fulcrum.encoding import b64d, b64e
from fulcrum.franking import (
    AbuseReport,
    FrankingError,
    ReportAttestation,
    VerdictCode,
    attest_report,
    attestation_key_id,
    verify_report,
)
from fulcrum.franking._fields import to_ms
from fulcrum.review import case_for_report
from fulcrum.server.auth import authenticated_device
from fulcrum.server.errors import ApiError, conflict, error_responses, forbidden, invalid, not_found
from fulcrum.server.franking.state import FrankingState, franking_state
from fulcrum.server.franking.transparency import installed_log, publish_missed_days
from fulcrum.server.state import relay_state
from fulcrum.server.translog import TransparencyLog
from fulcrum.store import DeviceRecord
from fulcrum.store.franking import FrankingGroupEpoch, Report, ReportItem
from fulcrum.store.models import Account, Message
from fulcrum.store.review import ReportArchive, SqlCaseStore
from fulcrum.wire.reports import (
    FRANKING_ENV_KEY,
    AttestationKeyOut,
    MessageVerdictOut,
    ReportReceipt,
    ReportSubmit,
    SentFranking,
)

router = APIRouter(tags=["reports"])
Caller = Depends(authenticated_device)
ADULT_AGE = 18


def _is_minor(session: Session, account: str, now: datetime) -> bool:
    row = session.get(Account, account)
    return row is not None and row.birth_year is not None and now.year - row.birth_year < ADULT_AGE


def _group_members(session: Session, report: AbuseReport) -> dict[tuple[str, int], list[str]]:
    out: dict[tuple[str, int], list[str]] = {}
    for msg in report.messages:
        group = msg.bundle.env.group
        if group is not None and (group.group_id, group.membership_epoch) not in out:
            row = session.get(FrankingGroupEpoch, (group.group_id, group.membership_epoch))
            if row is not None:
                out[(group.group_id, group.membership_epoch)] = list(row.members)
    return out


def _relayed_as_submitted(session: Session, report: AbuseReport) -> set[bytes]:
    """Message ids whose stored envelope and commitment differ from what was submitted."""
    bad: set[bytes] = set()
    for msg in report.messages:
        b = msg.bundle
        row = session.scalar(
            select(Message).where(
                Message.sender_account == b.env.sender, Message.msg_id == b64e(b.msg_id)
            )
        )
        if row is None or row.commitment != b.c or row.env.get(FRANKING_ENV_KEY) != b.env.to_json():
            bad.add(b.msg_id)
    return bad


def _parse(body: ReportSubmit, caller: DeviceRecord) -> AbuseReport:
    try:
        report = AbuseReport.from_json(body.report)
    except (FrankingError, RecursionError) as exc:
        raise invalid(f"report: {exc}", "invalid_report") from exc
    if (report.reporter_account, report.reporter_device) != (caller.account, caller.id):
        raise forbidden("a report is submitted by the reporting device itself")
    return report


def submit(
    state: FrankingState,
    session: Session,
    report: AbuseReport,
    log: TransparencyLog | None = None,
) -> ReportReceipt:
    """Verify, store, attest and queue one report. The first report of a new UTC day also
    publishes the earlier days' numbers (``AbuseReportStats``) in the same transaction."""
    now = state.clock()
    archive = ReportArchive(session)
    if archive.exists(report.report_id):
        raise conflict("this report id was already used", "duplicate_report")
    keyring = state.vault.keyring(session, now)
    already = {b64d(m) for m in archive.reported_msg_ids([b64e(c) for c in report.chosen])}
    verdict = verify_report(
        report,
        keyring,
        now,
        already_reported=already,
        group_members=_group_members(session, report),
    )
    chosen = [i for i in verdict.items if i.chosen]
    if any(i.code is VerdictCode.REPORTER_NOT_RECIPIENT for i in chosen):
        raise ApiError(403, "not_a_recipient", "the reporter did not receive this message")
    if all(i.code is VerdictCode.DUPLICATE for i in chosen):
        raise conflict("these messages were already reported", "already_reported")
    mismatched = _relayed_as_submitted(session, report)
    items = [
        dataclasses.replace(i, code=VerdictCode.META_ENV_MISMATCH)
        if i.code is VerdictCode.VALID and i.msg_id in mismatched
        else i
        for i in verdict.items
    ]
    verdict = dataclasses.replace(verdict, items=tuple(items))
    involves_child = report.involves_child or _is_minor(session, report.reporter_account, now)
    effective = dataclasses.replace(report, involves_child=involves_child)
    attestation: ReportAttestation | None = None
    if verdict.verified:
        attestation = attest_report(report, verdict, state.attestation_key, now)
    attestation_json = None if attestation is None else json.loads(attestation.encode())
    archive.add(
        Report(
            report_id=report.report_id,
            reporter_account=report.reporter_account,
            reporter_device=report.reporter_device,
            reason=report.reason.value,
            involves_child=involves_child,
            verified=verdict.verified,
            received_at=to_ms(now),
            attestation=attestation_json,
        ),
        [
            ReportItem(
                report_id=report.report_id,
                position=pos,
                msg_id=b64e(item.msg_id),
                sender=item.sender,
                server_ts=item.server_ts,
                chosen=item.chosen,
                verdict=item.code.value,
                content_type=msg.bundle.meta.content_type,
                body=msg.bundle.body,
            )
            for pos, (item, msg) in enumerate(zip(verdict.items, report.messages, strict=True))
        ],
    )
    case_id = ""
    if all(i.code is VerdictCode.VALID for i in verdict.items if i.chosen):
        case_id = "case-" + secrets.token_hex(8)
        SqlCaseStore(session).add(case_for_report(case_id, effective, now, attestation))
    state.reports_received += 1
    today = now.astimezone(UTC).date()
    if state.stats_checked_day != today:
        publish_missed_days(session, log, now)
        state.stats_checked_day = today
    return ReportReceipt(
        report_id=report.report_id,
        verified=verdict.verified,
        items=[
            MessageVerdictOut(
                msg_id=b64e(i.msg_id),
                sender=i.sender,
                server_ts=i.server_ts,
                chosen=i.chosen,
                code=i.code.value,
            )
            for i in verdict.items
        ],
        attestation=attestation_json,
        case_id=case_id,
    )


@router.post("/reports", response_model=ReportReceipt, responses=error_responses(401, 403, 409))
def submit_report(
    body: ReportSubmit, request: Request, caller: DeviceRecord = Caller
) -> ReportReceipt:
    """Verify an abuse report (chosen messages plus context, with their franking bundles)."""
    report = _parse(body, caller)
    state = relay_state(request.app)
    with state.db.write() as session:
        return submit(franking_state(state), session, report, installed_log(state.features))


@router.get("/reports/attestation-key", response_model=AttestationKeyOut)
def attestation_key(request: Request) -> AttestationKeyOut:
    """The platform's Ed25519 public key for report attestations."""
    public = franking_state(relay_state(request.app)).attestation_key.public_key()
    return AttestationKeyOut(key_id=attestation_key_id(public), public_key=b64e(public.raw))


@router.get(
    "/franking/sent/{msg_id}", response_model=SentFranking, responses=error_responses(401, 404)
)
def sent_franking(msg_id: str, request: Request, caller: DeviceRecord = Caller) -> SentFranking:
    """The franking env and tag of one of the caller's own messages (for its own bundle)."""
    state = relay_state(request.app)
    with state.db.read() as session:
        row = session.scalar(
            select(Message).where(
                Message.sender_account == caller.account, Message.msg_id == msg_id
            )
        )
    if row is None or row.franking_kid is None or row.franking_tag is None:
        raise not_found("no franked message with that id from this account")
    return SentFranking(
        msg_id=row.msg_id,
        env=row.env[FRANKING_ENV_KEY],
        kid=row.franking_kid,
        tag=b64e(row.franking_tag),
    )
