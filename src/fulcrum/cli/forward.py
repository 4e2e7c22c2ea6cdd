"""`fulcrum forward MESSAGE_ID NAME [NAME ...]`: forward a message from this device's history."""

from __future__ import annotations

from typing import Annotated

import typer

from fulcrum.cli.common import DEFAULT_HOME, HomeOpt, ServerOpt, console, err_console, with_client
from fulcrum.client.forwarding import Forwarded, ForwardRefused, forward
from fulcrum.client.sdk import FulcrumClient


def forward_command(
    message_id: Annotated[str, typer.Argument(help="Id of a message in this device's history")],
    names: Annotated[
        list[str], typer.Argument(help="Accounts, or group:ID / #ID for groups (at most 5)")
    ],
    server: ServerOpt = None,
    home: HomeOpt = DEFAULT_HOME,
) -> None:
    """Forward MESSAGE_ID to each NAME. The copies say "forwarded" to their recipients; a message
    goes to at most 5 chats per forward, and to 1 once it has been forwarded 5 times. Message ids
    are base64url and may start with "-": put the options first and "--" before the id."""

    async def go(client: FulcrumClient) -> Forwarded | ForwardRefused:
        try:
            return await forward(client, message_id, names)
        except ForwardRefused as exc:
            return exc

    outcome = with_client(home, server, go)
    sent = outcome.sent
    for target, receipt in sent:
        console.print(f"forwarded to {target} ({receipt.msg_id})")
    if isinstance(outcome, ForwardRefused):
        err_console.print(f"[red]refused:[/red] {outcome}")
        raise typer.Exit(2)
    console.print(f"forward count {outcome.forward_count}, {len(sent)} chats")
