"""`fulcrum account ...` and `fulcrum device ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fulcrum.cli.common import (
    DEFAULT_HOME,
    HomeOpt,
    ServerOpt,
    console,
    err_console,
    passphrase,
    run,
    with_client,
)
from fulcrum.client.sdk import FulcrumClient

account_app = typer.Typer(help="Create and inspect accounts.", no_args_is_help=True)
device_app = typer.Typer(help="Manage this account's devices.", no_args_is_help=True)


@account_app.command("create")
def create(
    name: str,
    birth_year: Annotated[
        int,
        typer.Option(
            min=1900, max=2100, help="Year of birth (required: sets the account's age band)"
        ),
    ],
    country: Annotated[str | None, typer.Option(help="ISO country code, e.g. GB")] = None,
    server: ServerOpt = None,
    home: HomeOpt = DEFAULT_HOME,
) -> None:
    """Create account NAME with this device as its first device."""
    if not server:
        err_console.print("[red]error:[/red] --server (or FULCRUM_SERVER) is required")
        raise typer.Exit(1)

    async def go() -> str:
        client = await FulcrumClient.register(
            home, server, name, passphrase(), birth_year=birth_year, country=country
        )
        await client.close()
        return client.core.device_id

    device_id = run(go())
    console.print(f"created account [bold]{name}[/bold], device {device_id}, home {home}")


@device_app.command("link")
def link(
    new_home: Path,
    server: ServerOpt = None,
    home: HomeOpt = DEFAULT_HOME,
) -> None:
    """Register a new device of this account in NEW_HOME.

    Its passphrase is read from FULCRUM_NEW_PASSPHRASE or prompted for.
    """

    async def go(client: FulcrumClient) -> str:
        new = await client.link_device(
            new_home, passphrase("FULCRUM_NEW_PASSPHRASE", "New device passphrase")
        )
        await new.close()
        return new.core.device_id

    device_id = with_client(home, server, go)
    console.print(f"linked device {device_id} in {new_home}")


@device_app.command("list")
def list_devices(server: ServerOpt = None, home: HomeOpt = DEFAULT_HOME) -> None:
    """List this account's devices."""

    async def go(client: FulcrumClient) -> list[str]:
        listing = await client.transport.devices(client.core.account)
        return [d.device_id for d in listing.devices]

    for device_id in with_client(home, server, go):
        console.print(device_id)
