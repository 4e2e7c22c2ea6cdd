"""`fulcrum report`, `fulcrum review ...` and `fulcrum reviewer create`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fulcrum.cli.common import (
    DEFAULT_HOME,
    HomeOpt,
    ServerOpt,
    console,
    err_console,
    run,
    with_client,
)
from fulcrum.client.franking_reports import report_message
from fulcrum.client.sdk import FulcrumClient
from fulcrum.client.transport import HttpTransport
from fulcrum.franking import ReasonCode
from fulcrum.server.franking.operators import create_reviewer
from fulcrum.server.settings import ServerSettings
from fulcrum.store import Database
from fulcrum.wire.reports import (
    CaseActionIn,
    CaseDetail,
    CaseList,
    ReportReceipt,
    ReportStatsOut,
)

review_app = typer.Typer(help="Work the review queue (reviewer accounts).", no_args_is_help=True)
reviewer_app = typer.Typer(help="Operator: manage reviewer accounts.", no_args_is_help=True)

TokenOpt = Annotated[
    str | None, typer.Option("--token", envvar="FULCRUM_REVIEW_TOKEN", help="Reviewer token")
]


def report(
    message_id: str,
    reason: Annotated[str, typer.Option(help="child_safety|terrorism|harassment|spam|other")],
    context: Annotated[int, typer.Option(help="Context messages to include")] = 5,
    involves_child: Annotated[bool, typer.Option("--involves-child")] = False,
    server: ServerOpt = None,
    home: HomeOpt = DEFAULT_HOME,
) -> None:
    """Report MESSAGE_ID with the last N messages of its conversation as verifiable context.

    Message ids are base64url and may start with "-": put the options first, then "--" and the
    id."""
    try:
        code = ReasonCode(reason)
    except ValueError:
        err_console.print(f"[red]error:[/red] unknown reason {reason!r}")
        raise typer.Exit(1) from None

    async def go(client: FulcrumClient) -> ReportReceipt:
        return await report_message(
            client, message_id, code, context=context, involves_child=involves_child
        )

    receipt = with_client(home, server, go)
    table = Table("message", "sender", "chosen", "verdict", title=f"report {receipt.report_id}")
    for item in receipt.items:
        table.add_row(item.msg_id, item.sender, "yes" if item.chosen else "", item.code)
    console.print(table)
    status = "[green]verified and attested" if receipt.verified else "[red]not verified"
    console.print(f"{status}[/]; review case {receipt.case_id}")


Answer = CaseList | CaseDetail | ReportStatsOut


def _reviewer_call(
    server: str | None,
    token: str | None,
    method: str,
    path: str,
    body: CaseActionIn | None = None,
    model: type[Answer] = CaseDetail,
) -> Answer:
    if not server or not token:
        err_console.print("[red]error:[/red] --server and --token (FULCRUM_REVIEW_TOKEN) needed")
        raise typer.Exit(1)

    async def go() -> Answer:
        transport = HttpTransport(server, token)
        try:
            return await transport.call(method, path, model, body=body)
        finally:
            await transport.aclose()

    return run(go())


@review_app.command("list")
def review_list(server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Open cases, highest priority first (child safety first)."""
    result = _reviewer_call(server, token, "GET", "/review/cases", model=CaseList)
    assert isinstance(result, CaseList)
    # Plain aligned lines, never wrapped or truncated: reviewers copy case ids from here.
    rows = [("case", "kind", "prio", "reason", "child", "subject", "status")]
    rows += [
        (
            c.case_id,
            c.kind,
            str(c.priority),
            c.reason,
            "yes" if c.involves_child else "-",
            c.subject,
            c.status,
        )
        for c in result.cases
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        line = "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    if not result.cases:
        console.print("no cases waiting")


def _print_case(detail: CaseDetail) -> None:
    c = detail.case
    console.print(
        f"[bold]case {c.case_id}[/bold] {c.kind} {c.reason} subject={c.subject} "
        f"status={c.status} verified={detail.verified}"
    )
    for m in detail.messages:  # only what the reporter submitted; * marks the reported ones
        console.print(f"  {'*' if m.chosen else ' '} {m.sender}: {m.verdict}")
        console.print(f"      {m.text}", markup=False, highlight=False)
    for a in detail.actions:
        console.print(f"  action: {a.action} by {a.actor} at {a.at} {a.note}".rstrip())
    if detail.clearinghouse_status is not None:
        console.print(
            f"  clearinghouse: {detail.clearinghouse_status} "
            f"report {detail.clearinghouse_report_id or '-'}"
        )
    elif detail.clearinghouse_xml is not None:
        console.print("  clearinghouse: draft only (no clearinghouse endpoint configured)")


@review_app.command("show")
def review_show(case_id: str, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Show one case: only the reported messages and their verdicts."""
    result = _reviewer_call(server, token, "GET", f"/review/cases/{case_id}")
    assert isinstance(result, CaseDetail)
    _print_case(result)


@review_app.command("act")
def review_act(
    case_id: str,
    action: Annotated[str, typer.Argument(help="dismiss|warn|suspend_sender|escalate|close")],
    note: Annotated[str, typer.Option(help="Why")] = "",
    not_viewed: Annotated[
        bool, typer.Option("--not-viewed", help="You did not look at the reported content")
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Act on a case; every action is recorded with who and when."""
    body = CaseActionIn.model_validate(
        {"action": action, "note": note, "viewed_content": not not_viewed}
    )
    result = _reviewer_call(server, token, "POST", f"/review/cases/{case_id}/actions", body)
    assert isinstance(result, CaseDetail)
    _print_case(result)


@review_app.command("publish-stats")
def review_publish_stats(
    day: Annotated[str, typer.Option(help="UTC day, YYYY-MM-DD (must be over)")],
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Admin: publish a day's abuse-report numbers to the transparency log (once)."""
    result = _reviewer_call(server, token, "POST", f"/review/stats/{day}", model=ReportStatsOut)
    assert isinstance(result, ReportStatsOut)
    where = "not logged" if result.log_index is None else f"log entry {result.log_index}"
    console.print(f"report stats for {result.day} ({where}):")
    for name, value in sorted(result.counts.items()):
        console.print(f"  {name:22} {value}")


@reviewer_app.command("create")
def reviewer_create(
    name: str,
    role: Annotated[str, typer.Option(help="reviewer|senior|admin")] = "reviewer",
    data: Annotated[Path, typer.Option(help="Server data dir")] = Path("fulcrum-data"),
    db: Annotated[str | None, typer.Option(help="Database URL")] = None,
) -> None:
    """Create a reviewer account on the server's database; prints its token once."""
    settings = ServerSettings(data_dir=data, db_url=db or os.environ.get("FULCRUM_DB_URL"))
    database = Database.connect(settings.database_url)
    try:
        database.migrate()
        token = create_reviewer(database, name, role)
    finally:
        database.dispose()
    console.print(f"reviewer {name} ({role}) created. Token (shown once): {token}")
