"""`fulcrum account ...` and `fulcrum device ...`."""

from __future__ import annotations

import os
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
from fulcrum.client.home import DeviceHome, HomeError
from fulcrum.client.sdk import FulcrumClient
from fulcrum.e2ee import E2EEError

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


@device_app.command("passphrase")
def change_passphrase(home: HomeOpt = DEFAULT_HOME) -> None:
    """Change this device's passphrase (no server needed).

    The current passphrase is read from FULCRUM_PASSPHRASE or prompted for, the new one from
    FULCRUM_NEW_PASSPHRASE or prompted for twice. Only the wrapped data key (store.key) is
    rewritten; the record log is untouched.
    """
    current = passphrase()
    new = os.environ.get("FULCRUM_NEW_PASSPHRASE") or str(
        typer.prompt("New device passphrase", hide_input=True, confirmation_prompt=True)
    )
    if not new:
        err_console.print("[red]error:[/red] the new passphrase is empty")
        raise typer.Exit(1)
    device = DeviceHome(home)
    try:
        device.lock()
        device.unlock_with(current)
        device.load()
        device.change_passphrase(new)
    except (HomeError, E2EEError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        device.unlock()
    console.print(f"passphrase changed for the device in {home}")
