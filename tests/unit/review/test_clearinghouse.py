"""Clearinghouse drafts: CyberTipline shape, escaping, viewed/public flags."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from fulcrum.franking import ReasonCode
from fulcrum.review import (
    ActionKind,
    Case,
    CaseKind,
    ClearinghouseReportDraft,
    DraftError,
    EvidenceRef,
    IncidentType,
    ReportedFile,
    ReportingPerson,
    Reviewer,
    ReviewerAction,
    Role,
    VictimInfo,
    apply_action,
    clean_text,
)

pytestmark = pytest.mark.unit

T = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
REV = Reviewer("r1", Role.REVIEWER)
SENIOR = Reviewer("s1", Role.SENIOR_REVIEWER)
FILE = ReportedFile("IMG_<1>&.jpg", "ab" * 32, "cd" * 16)
NASTY = "</screenName><x>&amp;\"'\x00\x1b\ud800 end"


def escalated(viewed: bool, subject: str = "mallory") -> Case:
    c = Case(
        "case-1",
        CaseKind.MEDIA_MATCH,
        ReasonCode.CHILD_SAFETY,
        False,
        T,
        subject,
        (EvidenceRef("match", "m-77"),),
    )
    c = apply_action(
        c,
        ReviewerAction(
            ActionKind.SUSPEND_SENDER, "r1", T + timedelta(minutes=1), viewed_content=viewed
        ),
        REV,
    )
    return apply_action(
        c, ReviewerAction(ActionKind.ESCALATE_CLEARINGHOUSE, "s1", T + timedelta(minutes=2)), SENIOR
    )


def draft(case: Case, **kw: object) -> ClearinghouseReportDraft:
    return ClearinghouseReportDraft(
        case=case,
        incident_type=IncidentType.CHILD_PORNOGRAPHY,
        incident_at=T,
        platform_name="Fulcrum",
        reporter=ReportingPerson("Trust", "Safety", "safety@fulcrum.example"),
        files=(FILE,),
        **kw,  # type: ignore[arg-type]
    )


def test_report_shape() -> None:
    root = ET.fromstring(draft(escalated(True), victim=VictimInfo("kid01", 13)).report_xml())
    assert root.tag == "report"
    assert [c.tag for c in root] == [
        "incidentSummary",
        "internetDetails",
        "reporter",
        "personOrUserReported",
        "victim",
        "additionalInfo",
    ]
    assert root.findtext("incidentSummary/incidentType") == IncidentType.CHILD_PORNOGRAPHY.value
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-11-03T09:00:00+00:00"
    assert root.find("internetDetails/chatImIncident/chatClient") is not None
    assert root.findtext("reporter/reportingPerson/email") == "safety@fulcrum.example"
    assert root.findtext("personOrUserReported/espIdentifier") == "mallory"
    assert root.findtext("victim/victimPerson/age") == "13"
    assert "match m-77" in (root.findtext("additionalInfo") or "")


def test_file_details_viewed_only_after_human_review_and_never_public() -> None:
    for viewed in (True, False):
        d = draft(escalated(viewed))
        fd = ET.fromstring(d.file_details_xml(FILE, report_id="4564654", file_id="f1"))
        assert fd.findtext("fileViewedByEsp") == ("true" if viewed else "false")
        assert fd.findtext("publiclyAvailable") == "false"
        hashes = {h.get("hashType"): h.text for h in fd.findall("originalFileHash")}
        assert hashes == {"SHA256": "ab" * 32, "MD5": "cd" * 16}
        assert fd.findtext("originalFileName") == "IMG_<1>&.jpg"


def test_escaping_and_invalid_characters() -> None:
    d = draft(escalated(True, subject=NASTY.replace("\x00", "")), additional_info=NASTY)
    raw = d.report_xml()
    assert b"<x>" not in raw
    assert b"\x00" not in raw
    assert b"\x1b" not in raw
    root = ET.fromstring(raw)  # well-formed
    assert root.findtext("personOrUserReported/screenName") == clean_text(NASTY.replace("\x00", ""))
    assert (root.findtext("additionalInfo") or "").endswith(clean_text(NASTY))
    assert clean_text("a\x00b") == "a\ufffdb"


def test_draft_refusals() -> None:
    open_case = Case("c2", CaseKind.USER_REPORT, ReasonCode.CHILD_SAFETY, True, T, "m")
    with pytest.raises(DraftError):
        draft(open_case)
    with pytest.raises(DraftError):
        draft(escalated(True)).file_details_xml(
            ReportedFile("x", "00" * 32), report_id="1", file_id="2"
        )
    with pytest.raises(DraftError):
        ReportedFile("x", "XYZ")
    with pytest.raises(DraftError):
        ClearinghouseReportDraft(
            escalated(True),
            IncidentType.ONLINE_ENTICEMENT,
            datetime(2026, 1, 1),
            "Fulcrum",
            ReportingPerson("a", "b", "c"),
        )
