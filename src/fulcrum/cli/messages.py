"""`fulcrum send`, `fulcrum sync` and `fulcrum group ...`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fulcrum.cli.common import DEFAULT_HOME, HomeOpt, ServerOpt, console, with_client
from fulcrum.client.core import Applied, ReceivedMessage, Rejected
from fulcrum.client.sdk import FulcrumClient, SafetyNotice, SyncOutcome, outcome_json
from fulcrum.wire.api import GroupInfo, SendReceipt

AttachOpt = Annotated[
    list[Path] | None, typer.Option("--attach", help="File to attach (repeatable)", exists=True)
]
group_app = typer.Typer(help="Groups: create, change members, send.", no_args_is_help=True)


def send(
    name: str,
    text: str,
    attach: AttachOpt = None,
    server: ServerOpt = None,
    home: HomeOpt = DEFAULT_HOME,
) -> None:
    """Send TEXT to account NAME (end-to-end encrypted to each of its devices)."""

    async def go(client: FulcrumClient) -> SendReceipt:
        return await client.send_text(name, text, attach or [])

    receipt = with_client(home, server, go)
    console.print(f"sent {receipt.msg_id} to {name}")


def sync(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    watch: Annotated[
        float | None,
        typer.Option("--watch", help="Stay connected for SECONDS, printing messages as pushed"),
    ] = None,
    server: ServerOpt = None,
    home: HomeOpt = DEFAULT_HOME,
) -> None:
    """Fetch, decrypt, verify and acknowledge new messages, then print them."""

    def show(rows: list[dict[str, object]]) -> None:
        if as_json:
            for row in rows:
                typer.echo(json.dumps(row, sort_keys=True))
        else:
            print_outcomes(rows)

    async def go(client: FulcrumClient) -> list[dict[str, object]]:
        rows = [outcome_json(client, o) for o in await client.sync()]
        if watch is not None:
            show(rows)
            await client.listen(
                lambda outcomes: show([outcome_json(client, o) for o in outcomes]),
                duration=watch,
            )
            return []
        return rows

    rows = with_client(home, server, go)
    if watch is None:
        show(rows)


def print_outcomes(rows: list[dict[str, object]]) -> None:
    if not rows:
        console.print("no new messages")
        return
    table = Table("conversation", "from", "message", "status")
    for row in rows:
        if row["type"] == "message":
            files = ", ".join(Path(str(p)).name for p in row["attachments"])  # type: ignore[attr-defined]
            text = str(row["text"]) + (f" [dim](+ {files})[/dim]" if files else "")
            if row.get("forwarded"):
                text = f"[dim](forwarded x{row['forwarded']})[/dim] " + text
            table.add_row(str(row["conversation"]), str(row["sender"]), text, "[green]verified")
        elif row["type"] == "notice":
            table.add_row("-", "fulcrum", f"[yellow]{row['text']}", "safety notice")
        elif row["type"] == "rejected":
            table.add_row(
                str(row["conv"]),
                str(row["sender"]),
                "[red]could not be verified",
                str(row["reason"]),
            )
    console.print(table)


def describe(outcome: SyncOutcome) -> str:
    if isinstance(outcome, ReceivedMessage):
        return f"{outcome.sender}: {outcome.text}"
    if isinstance(outcome, SafetyNotice):
        return f"notice: {outcome.text}"
    if isinstance(outcome, Rejected):
        return f"rejected from {outcome.sender}: {outcome.reason}"
    assert isinstance(outcome, Applied)
    return f"applied {outcome.what}"


@group_app.command("create")
def group_create(
    group: str,
    members: Annotated[str, typer.Option(help="Comma-separated account names")],
    server: ServerOpt = None,
    home: HomeOpt = DEFAULT_HOME,
) -> None:
    """Create GROUP with the given members (you become its admin)."""

    async def go(client: FulcrumClient) -> GroupInfo:
        names = [m.strip() for m in members.split(",") if m.strip()]
        return await client.create_group(group, names)

    info = with_client(home, server, go)
    console.print(f"group {info.group_id}: {', '.join(info.members)}")


def _change(group: str, name: str, add: bool, server: str | None, home: Path) -> None:
    async def go(client: FulcrumClient) -> GroupInfo:
        if add:
            return await client.change_members(group, add=[name])
        return await client.change_members(group, remove=[name])

    info = with_client(home, server, go)
    console.print(
        f"group {info.group_id} (epoch {info.membership_epoch}): {', '.join(info.members)}"
    )


@group_app.command("add")
def group_add(
    group: str, name: str, server: ServerOpt = None, home: HomeOpt = DEFAULT_HOME
) -> None:
    """Add NAME to GROUP (admins only). The next message uses a fresh group session."""
    _change(group, name, True, server, home)


@group_app.command("remove")
def group_remove(
    group: str, name: str, server: ServerOpt = None, home: HomeOpt = DEFAULT_HOME
) -> None:
    """Remove NAME from GROUP (admins only). NAME cannot read anything sent afterwards."""
    _change(group, name, False, server, home)


@group_app.command("send")
def group_send(
    group: str,
    text: str,
    attach: AttachOpt = None,
    server: ServerOpt = None,
    home: HomeOpt = DEFAULT_HOME,
) -> None:
    """Send TEXT to every member of GROUP."""

    async def go(client: FulcrumClient) -> SendReceipt:
        return await client.send_group(group, text, attach or [])

    receipt = with_client(home, server, go)
    console.print(f"sent {receipt.msg_id} to group {group}")
