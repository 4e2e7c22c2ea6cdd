"""Options and error handling shared by the client commands."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from fulcrum.client.core import ClientError
from fulcrum.client.home import HomeError
from fulcrum.client.sdk import FulcrumClient
from fulcrum.client.transport import ApiError, ServerUnreachable
from fulcrum.e2ee import E2EEError

console = Console()
err_console = Console(stderr=True)

T = TypeVar("T")

ServerOpt = Annotated[
    str | None,
    typer.Option(
        "--server", envvar="FULCRUM_SERVER", help="Server URL, e.g. http://127.0.0.1:8080"
    ),
]
HomeOpt = Annotated[
    Path,
    typer.Option("--home", envvar="FULCRUM_HOME", help="This device's state directory"),
]
DEFAULT_HOME = Path.home() / ".fulcrum"


def passphrase(env: str = "FULCRUM_PASSPHRASE", prompt: str = "Device passphrase") -> str:
    value = os.environ.get(env)
    if value:
        return value
    return str(typer.prompt(prompt, hide_input=True))


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a client coroutine, turning known failures into a clear message and exit code."""
    try:
        return asyncio.run(coro)
    except ApiError as exc:
        err_console.print(
            f"[red]server refused:[/red] {exc.message} ({exc.code}, HTTP {exc.status})"
        )
        raise typer.Exit(2) from None
    except ServerUnreachable as exc:
        err_console.print(f"[red]server unreachable:[/red] {exc}")
        raise typer.Exit(3) from None
    except (HomeError, ClientError, E2EEError, OSError) as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


@asynccontextmanager
async def opened(home: Path, server: str | None) -> Any:
    client = await FulcrumClient.open(home, passphrase(), server=server)
    try:
        yield client
    finally:
        await client.close()


def with_client(
    home: Path, server: str | None, action: Callable[[FulcrumClient], Awaitable[T]]
) -> T:
    async def go() -> T:
        async with opened(home, server) as client:
            return await action(client)

    return run(go())
