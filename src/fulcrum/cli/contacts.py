"""`fulcrum contact request|accept|decline|block|list`: connections under the safety rules, and
`fulcrum group invite|join`: group invite links."""

from __future__ import annotations

from typing import Annotated

import typer

from fulcrum.cli.common import DEFAULT_HOME, HomeOpt, ServerOpt, console, with_client
from fulcrum.cli.messages import group_app
from fulcrum.client import contacts
from fulcrum.client.sdk import FulcrumClient
from fulcrum.wire.safety import ContactList

contact_app = typer.Typer(help="Contacts: requests, accept, block, list.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="The other account")]


@contact_app.command("request")
def request(name: Name, server: ServerOpt = None, home: HomeOpt = DEFAULT_HOME) -> None:
    """Ask NAME to become a connection (refusals print the rule's explanation)."""
    info = with_client(home, server, lambda c: contacts.request_contact(c, name))
    console.print(f"contact request to {info.recipient}: {info.status}")


@contact_app.command("accept")
def accept(name: Name, server: ServerOpt = None, home: HomeOpt = DEFAULT_HOME) -> None:
    """Accept NAME's pending request."""
    info = with_client(home, server, lambda c: contacts.accept_contact(c, name))
    console.print(f"{info.requester} is now a connection")


@contact_app.command("decline")
def decline(name: Name, server: ServerOpt = None, home: HomeOpt = DEFAULT_HOME) -> None:
    """Decline NAME's pending request."""
    with_client(home, server, lambda c: contacts.decline_contact(c, name))
    console.print(f"declined {name}")


@contact_app.command("block")
def block(name: Name, server: ServerOpt = None, home: HomeOpt = DEFAULT_HOME) -> None:
    """Block NAME: no more messages, requests or search results between you."""
    with_client(home, server, lambda c: contacts.block(c, name))
    console.print(f"blocked {name}")


@contact_app.command("list")
def list_contacts(server: ServerOpt = None, home: HomeOpt = DEFAULT_HOME) -> None:
    """Your connections and pending requests."""

    async def go(client: FulcrumClient) -> ContactList:
        return await contacts.contacts(client)

    for entry in with_client(home, server, go).contacts:
        console.print(f"{entry.account}\t{entry.status}\t{entry.direction}")


@group_app.command("invite")
def invite(
    group: Annotated[str, typer.Argument(help="The group id")],
    hours: Annotated[int, typer.Option(min=1, max=168, help="Valid for this many hours")] = 24,
    server: ServerOpt = None,
    home: HomeOpt = DEFAULT_HOME,
) -> None:
    """Create a single-use invite link to GROUP (admins only); prints its token once."""
    info = with_client(home, server, lambda c: contacts.create_invite(c, group, hours * 3600))
    console.print(f"invite to {info.group_id} (single use, {hours} h): {info.token}")


@group_app.command("join")
def join(
    token: Annotated[str, typer.Argument(help="The invite token")],
    server: ServerOpt = None,
    home: HomeOpt = DEFAULT_HOME,
) -> None:
    """Join a group with an invite link."""
    info = with_client(home, server, lambda c: contacts.accept_invite(c, token))
    console.print(f"joined {info.group_id}: {', '.join(info.members)}")
