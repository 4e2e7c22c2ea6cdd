"""The real `fulcrum report`, `fulcrum review list|show|act|publish-stats` and
`fulcrum reviewer create` commands against an embedded server with the review role."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.integration.client.conftest import PASS, World
from tests.integration.franking.test_reports_e2e import chat
from typer.testing import CliRunner

from fulcrum.cli.main import app
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.server.state import relay_state
from fulcrum.store.franking import Report, ReviewAction
from fulcrum.store.models import Account

pytestmark = pytest.mark.integration

ENV = {"FULCRUM_PASSPHRASE": PASS}


def flat(text: str) -> str:
    """CLI output with rich's line wrapping and table borders folded away."""
    return re.sub(r"[\s│┃|─━┏┓┗┛┡┩└┘╇┃]+", " ", text)


@pytest.fixture
def conversation(server: EmbeddedServer, tmp_path: Path) -> list[str]:
    """alice and bob chatted; returns bob's received message ids (clients closed)."""

    async def go() -> list[str]:
        world = World(server, tmp_path / "homes")
        try:
            _alice, _bob, ids = await chat(world)
            return ids
        finally:
            await world.close()

    return asyncio.run(go())


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=ENV)
    return result.exit_code, result.output


def make_reviewer(server: EmbeddedServer, name: str, role: str) -> str:
    code, out = invoke(
        "reviewer", "create", name, "--role", role, "--data", str(server.settings.data_dir)
    )
    assert code == 0, out
    assert f"reviewer {name} ({role}) created" in flat(out)
    found = re.search(r"Token \(shown once\):\s+(\S+)", out)
    assert found is not None
    return found.group(1)


def test_report_then_review_list_show_act(
    server: EmbeddedServer, conversation: list[str], tmp_path: Path
) -> None:
    url, bob_home = server.url, str(tmp_path / "homes" / "bob")
    code, out = invoke("report", "--reason", "bogus", "--server", url,
                       "--home", bob_home, "--", conversation[-1])  # fmt: skip
    assert code == 1 and "unknown reason" in out

    code, out = invoke("report", "--reason", "harassment", "--context", "3",
                       "--server", url, "--home", bob_home, "--", conversation[-1])  # fmt: skip
    assert code == 0, out
    assert "verified and attested" in flat(out)
    case_id = re.search(r"review case (case-[0-9a-f]{16})", flat(out))
    assert case_id is not None
    case = case_id.group(1)
    assert flat(out).count(" valid ") == 4  # the chosen message and 3 of context
    state = relay_state(server.app)
    with state.db.read() as session:
        [row] = session.scalars(select(Report)).all()
        assert row.verified and row.reporter_account == "bob" and row.reason == "harassment"

    code, out = invoke("review", "list", "--server", url)
    assert code == 1 and "--token" in out
    plain = make_reviewer(server, "rev-1", "reviewer")
    code, out = invoke("review", "list", "--server", url, "--token", plain)
    assert code == 0, out
    assert case[:12] in flat(out) and "harassment" in flat(out) and "alice" in flat(out)

    code, out = invoke("review", "show", case, "--server", url, "--token", plain)
    assert code == 0, out
    assert f"case {case}" in flat(out) and "verified=True" in flat(out)
    assert flat(out).count("alice: valid") == 3 and "* alice: valid" in flat(out)
    assert "ABUSE-MARKER you will regret this" in flat(out) and "hi alice" in out

    code, out = invoke("review", "act", case, "suspend_sender", "--note", "threats",
                       "--server", url, "--token", plain)  # fmt: skip
    assert code == 0, out
    assert "action: suspend_sender by rev-1" in flat(out) and "threats" in out
    with state.db.read() as session:
        alice = session.get(Account, "alice")
        assert alice is not None and alice.suspended

    code, out = invoke("review", "act", case, "escalate", "--server", url, "--token", plain)
    assert code == 2 and "role_required" in flat(out)
    code, out = invoke("review", "act", case, "explode", "--server", url, "--token", plain)
    assert code != 0

    senior = make_reviewer(server, "rev-2", "senior")
    code, out = invoke("review", "act", case, "escalate", "--not-viewed",
                       "--server", url, "--token", senior)  # fmt: skip
    assert code == 0, out
    assert "clearinghouse: draft only" in flat(out)
    with state.db.read() as session:
        actions = session.scalars(select(ReviewAction).order_by(ReviewAction.position)).all()
    assert [(a.kind, a.reviewer_id, a.viewed_content) for a in actions] == [
        ("suspend_sender", "rev-1", True),
        ("escalate_clearinghouse", "rev-2", False),
    ]
    code, out = invoke("review", "list", "--server", url, "--token", senior)
    assert code == 0 and case[:12] not in flat(out)  # escalated: out of the queue


def test_publish_stats_command(server: EmbeddedServer, conversation: list[str]) -> None:
    url = server.url
    admin = make_reviewer(server, "ops", "admin")
    senior = make_reviewer(server, "sen", "senior")
    today = datetime.now(UTC).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    code, out = invoke("review", "publish-stats", "--day", yesterday, "--server", url,
                       "--token", senior)  # fmt: skip
    assert code == 2 and "admin" in flat(out)
    code, out = invoke("review", "publish-stats", "--day", yesterday, "--server", url,
                       "--token", admin)  # fmt: skip
    assert code == 0, out
    assert f"report stats for {yesterday} (log entry" in flat(out)
    assert re.search(r"received\s+0", out)
    code, out = invoke("review", "publish-stats", "--day", today.isoformat(), "--server", url,
                       "--token", admin)  # fmt: skip
    assert code == 2 and "day_not_over" in flat(out)


def test_reviewer_create_refuses_unknown_role(server: EmbeddedServer) -> None:
    result = CliRunner().invoke(
        app,
        ["reviewer", "create", "x", "--role", "overlord", "--data", str(server.settings.data_dir)],
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, ValueError) and "unknown role" in str(result.exception)
