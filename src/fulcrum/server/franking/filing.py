"""Filing escalated cases with the clearinghouse, and the legal preservation hold.

``file_case`` runs after a senior reviewer escalates a case (and only when a clearinghouse URL is
configured): it drafts the report from the case and the messages the reporter chose, files it
(submit, one upload + fileinfo per message, finish) outside any database transaction, then in one
transaction stores the clearinghouse's report id, the XML as filed and its retention date, and
appends ``ClearinghouseReportFiled`` to the log. A failure is recorded (status ``failed``, the
step that failed) and an unfinished report is retracted.

``fileViewedByEsp`` is true only if a reviewer recorded looking at the content
(``viewed_content`` on one of the case's actions). ``purge_case_contents`` refuses to erase
anything of a filed case before ``retain_until``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select, update

from fulcrum.franking import ReasonCode
from fulcrum.hazmat.symmetric import sha256
from fulcrum.review import (
    Case,
    CaseState,
    ClearinghouseReportDraft,
    IncidentType,
    ReportedFile,
    ReportingPerson,
)
from fulcrum.server.franking.clearinghouse import ClearinghouseError, ClearinghouseSettings
from fulcrum.server.franking.transparency import DAY_MS, installed_log
from fulcrum.server.state import RelayState
from fulcrum.store.franking import ClearinghouseFiling, ReportItem, ReviewCase
from fulcrum.store.review import SqlCaseStore
from fulcrum.translog import ClearinghouseReportFiled

PLATFORM_NAME = "Fulcrum"


class RetentionHold(ValueError):
    """The case's contents must be preserved until ``retain_until`` (ms)."""

    def __init__(self, case_id: str, retain_until: int) -> None:
        super().__init__(f"case {case_id} is preserved until {retain_until} (ms)")
        self.retain_until = retain_until


@dataclass(frozen=True)
class FilingResult:
    status: str  # filed / failed
    external_id: str | None
    error: str | None
    log_index: int | None


def incident_type_for(case: Case) -> IncidentType:
    """A default category (the reviewer does not pick one yet): child-safety cases are filed as
    online enticement, anything else as misleading words or images."""
    if case.involves_child or case.reason is ReasonCode.CHILD_SAFETY:
        return IncidentType.ONLINE_ENTICEMENT
    return IncidentType.MISLEADING_WORDS_OR_IMAGES


def _chosen_items(state: RelayState, case: Case) -> list[ReportItem]:
    refs = [e.ref for e in case.evidence if e.kind == "report"]
    with state.db.read() as session:
        rows = session.scalars(
            select(ReportItem)
            .where(ReportItem.report_id.in_(refs), ReportItem.chosen.is_(True))
            .order_by(ReportItem.report_id, ReportItem.position)
        ).all()
        session.expunge_all()
    return list(rows)


def draft_with_files(
    case: Case, items: list[ReportItem], settings: ClearinghouseSettings
) -> tuple[ClearinghouseReportDraft, list[tuple[ReportedFile, bytes]]]:
    files = [
        (ReportedFile(f"message-{i.msg_id}.txt", sha256(i.body).hex()), bytes(i.body))
        for i in items
    ]
    draft = ClearinghouseReportDraft(
        case=case,
        incident_type=incident_type_for(case),
        incident_at=case.created_at,
        platform_name=PLATFORM_NAME,
        reporter=ReportingPerson(
            settings.contact_first_name, settings.contact_last_name, settings.contact_email
        ),
        files=tuple(f for f, _ in files),
        additional_info=f"User report case {case.case_id} ({case.reason.value})",
    )
    return draft, files


def file_case(
    state: RelayState,
    case_id: str,
    settings: ClearinghouseSettings,
    now: datetime,
    *,
    transport: httpx.BaseTransport | None = None,
) -> FilingResult:
    """File an escalated case (see the module docstring). Idempotent once filed."""
    with state.db.read() as session:
        case = SqlCaseStore(session).get(case_id)
        done = session.get(ClearinghouseFiling, case_id)
        if done is not None and done.status == "filed":
            return FilingResult("filed", done.external_id, None, done.log_index)
    if case.state is not CaseState.ESCALATED:
        raise ClearinghouseError("only escalated cases are filed")
    draft, files = draft_with_files(case, _chosen_items(state, case), settings)
    report_xml = draft.report_xml()
    external_id: str | None = None
    error: str | None = None
    with settings.client(transport) as client:
        try:
            external_id = client.submit(report_xml)
            for reported, data in files:
                file_id = client.upload(external_id, reported.file_name, data)
                client.file_info(
                    draft.file_details_xml(reported, report_id=external_id, file_id=file_id)
                )
            client.finish(external_id)
        except ClearinghouseError as exc:
            error = str(exc)
            if external_id is not None:
                with contextlib.suppress(ClearinghouseError):
                    client.retract(external_id)
    return _record(state, case, settings, now, report_xml, files, external_id, error)


def _record(
    state: RelayState,
    case: Case,
    settings: ClearinghouseSettings,
    now: datetime,
    report_xml: bytes,
    files: list[tuple[ReportedFile, bytes]],
    external_id: str | None,
    error: str | None,
) -> FilingResult:
    now_ms = int(now.timestamp() * 1000)
    filed = error is None and external_id is not None
    digest = sha256(report_xml)
    with state.db.write() as session:
        row = session.get(ClearinghouseFiling, case.case_id)
        if row is None:
            row = ClearinghouseFiling(case_id=case.case_id, files=[])
            session.add(row)
        row.clearinghouse = settings.name
        row.status = "filed" if filed else "failed"
        row.external_id = external_id if filed else None
        row.report_xml = report_xml.decode("utf-8")
        row.report_digest = digest
        row.files = [{"name": f.file_name, "sha256": f.sha256_hex} for f, _ in files]
        row.error = error
        row.attempted_at = now_ms
        index = None
        if filed:
            assert external_id is not None
            row.filed_at = now_ms
            row.retain_until = now_ms + settings.retention_days * DAY_MS
            SqlCaseStore(session).set_clearinghouse_draft(case.case_id, row.report_xml)
            log = installed_log(state.features)
            if log is not None:
                index = log.append_in(
                    session,
                    ClearinghouseReportFiled(
                        time=now_ms // 1000,
                        report_id=external_id,
                        clearinghouse=settings.name,
                        category=incident_type_for(case).name,
                        report_digest=digest,
                    ),
                )
            row.log_index = index
        session.flush()
    return FilingResult(row.status, row.external_id, error, index)


def purge_case_contents(state: RelayState, case_id: str, now: datetime) -> None:
    """Erase a case's preserved contents (reported bodies, filed XML) once they may be erased.

    Raises ``RetentionHold`` while a filed report is under preservation, or while an escalated
    case has not been filed yet.
    """
    now_ms = int(now.timestamp() * 1000)
    with state.db.write() as session:
        case_row = session.get(ReviewCase, case_id)
        if case_row is None:
            raise ValueError(f"no case {case_id}")
        filing = session.get(ClearinghouseFiling, case_id)
        if filing is not None and filing.retain_until is not None:
            if now_ms < filing.retain_until:
                raise RetentionHold(case_id, filing.retain_until)
        elif case_row.state == CaseState.ESCALATED.value:
            raise RetentionHold(case_id, now_ms + 1)
        refs = [e["ref"] for e in case_row.evidence if e["kind"] == "report"]
        session.execute(update(ReportItem).where(ReportItem.report_id.in_(refs)).values(body=b""))
        case_row.clearinghouse_xml = None
        if filing is not None:
            filing.report_xml = None
            filing.status = "purged"
