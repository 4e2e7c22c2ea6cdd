"""Escalation files a clearinghouse report with a local fake (never a real endpoint), stores its
id, logs ClearinghouseReportFiled, and preserves the contents for the retention period."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.integration.client.conftest import World
from tests.integration.franking.fake_clearinghouse import PASSWORD, USER, FakeClearinghouse
from tests.integration.franking.test_log_entries import logged
from tests.integration.franking.test_reports_e2e import chat

from fulcrum.client.franking_reports import report_message
from fulcrum.franking import ReasonCode
from fulcrum.hazmat.symmetric import sha256
from fulcrum.server.franking import ClearinghouseSettings, franking_state
from fulcrum.server.franking.clearinghouse import ClearinghouseError, CyberTiplineClient
from fulcrum.server.franking.filing import RetentionHold, purge_case_contents
from fulcrum.server.franking.operators import create_reviewer
from fulcrum.server.state import relay_state
from fulcrum.server.translog import transparency_log
from fulcrum.store.franking import ClearinghouseFiling, ReportItem
from fulcrum.translog import ClearinghouseReportFiled

pytestmark = pytest.mark.integration


@pytest.fixture
def fake() -> Iterator[FakeClearinghouse]:
    srv = FakeClearinghouse().start()
    yield srv
    srv.stop()


def configure(world: World, fake: FakeClearinghouse) -> None:
    franking_state(relay_state(world.server.app)).clearinghouse = ClearinghouseSettings(
        url=fake.url, username=USER, password=PASSWORD, retention_days=90
    )


async def escalated_case(world: World, *, viewed: bool = True) -> tuple[str, dict[str, Any]]:
    _alice, bob, ids = await chat(world)
    receipt = await report_message(bob, ids[-1], ReasonCode.CHILD_SAFETY, context=2)
    token = create_reviewer(relay_state(world.server.app).db, "senior-1", "senior")
    with httpx.Client(
        base_url=world.server.url, headers={"Authorization": f"Bearer {token}"}
    ) as rev:
        url = f"/v1/review/cases/{receipt.case_id}/actions"
        body = {"action": "escalate", "viewed_content": viewed}
        answer = rev.post(url, json=body)
    assert answer.status_code == 200, answer.text
    return receipt.case_id, answer.json()


def file_details(report: Any) -> ET.Element:
    [raw] = report.file_details
    return ET.fromstring(raw)


async def test_escalation_files_logs_and_preserves(world: World, fake: FakeClearinghouse) -> None:
    configure(world, fake)
    case_id, detail = await escalated_case(world)
    assert detail["clearinghouse_status"] == "filed"
    report_id = detail["clearinghouse_report_id"]
    filed = fake.reports[report_id]
    assert filed.finished and not filed.retracted
    [(name, data)] = filed.files.values()
    assert b"ABUSE-MARKER" in data and name.startswith("message-")
    details = file_details(filed)
    assert details.findtext("fileViewedByEsp") == "true"
    assert details.findtext("publiclyAvailable") == "false"
    assert details.findtext("originalFileHash") == sha256(data).hex()
    assert detail["clearinghouse_xml"].encode() == filed.report_xml

    state = relay_state(world.server.app)
    [entry] = [
        e for _, e in logged(transparency_log(state)) if isinstance(e, ClearinghouseReportFiled)
    ]
    assert isinstance(entry, ClearinghouseReportFiled)
    assert entry.report_id == report_id and entry.clearinghouse == "ncmec-cybertipline"
    assert entry.report_digest == sha256(filed.report_xml)
    assert entry.category == "ONLINE_ENTICEMENT"

    now = datetime.now(UTC)
    with pytest.raises(RetentionHold):
        purge_case_contents(state, case_id, now + timedelta(days=89))
    with state.db.read() as session:
        bodies = [i.body for i in session.scalars(select(ReportItem))]
    assert all(bodies)
    purge_case_contents(state, case_id, now + timedelta(days=91))
    with state.db.read() as session:
        assert all(i.body == b"" for i in session.scalars(select(ReportItem)))
        row = session.get(ClearinghouseFiling, case_id)
        assert row is not None and row.status == "purged" and row.report_xml is None


async def test_not_viewed_by_a_human_is_reported_as_not_viewed(
    world: World, fake: FakeClearinghouse
) -> None:
    configure(world, fake)
    _case_id, detail = await escalated_case(world, viewed=False)
    details = file_details(fake.reports[detail["clearinghouse_report_id"]])
    assert details.findtext("fileViewedByEsp") == "false"


async def test_failed_filing_is_recorded_retracted_and_not_logged(
    world: World, fake: FakeClearinghouse
) -> None:
    configure(world, fake)
    fake.fail_step = "finish"
    case_id, detail = await escalated_case(world)
    assert detail["clearinghouse_status"] == "failed"
    assert detail["clearinghouse_report_id"] is None
    [report] = fake.reports.values()
    assert report.retracted and not report.finished
    state = relay_state(world.server.app)
    assert not [
        e for _, e in logged(transparency_log(state)) if isinstance(e, ClearinghouseReportFiled)
    ]
    with state.db.read() as session:
        row = session.get(ClearinghouseFiling, case_id)
        assert row is not None and row.error is not None and "finish" in row.error


async def test_no_endpoint_means_drafts_only(world: World) -> None:
    assert not franking_state(relay_state(world.server.app)).clearinghouse.configured
    case_id, detail = await escalated_case(world)
    assert detail["clearinghouse_xml"].startswith("<?xml")
    assert detail["clearinghouse_status"] is None
    state = relay_state(world.server.app)
    assert not [
        e for _, e in logged(transparency_log(state)) if isinstance(e, ClearinghouseReportFiled)
    ]
    with pytest.raises(RetentionHold):  # escalated but never filed: kept
        purge_case_contents(state, case_id, datetime.now(UTC) + timedelta(days=400))


def test_client_refuses_bad_credentials_and_bad_urls(fake: FakeClearinghouse) -> None:
    with (
        CyberTiplineClient(fake.url, USER, "wrong") as client,
        pytest.raises(ClearinghouseError, match="HTTP 401"),
    ):
        client.submit(b"<report/>")
    with pytest.raises(ValueError, match="https"):
        ClearinghouseSettings(url="http://clearinghouse.example/ispws")
    assert ClearinghouseSettings().url is None  # nothing configured by default
    assert "fake-clearinghouse-password" not in repr(
        ClearinghouseSettings(url=fake.url, username=USER, password=PASSWORD)
    )
