"""`fulcrum demo`: the whole system on one machine, on an embedded loopback server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fulcrum.cli.common import console, err_console
from fulcrum.demo.runner import DemoFailed, run_demo


def demo(
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs")] = Path("demo-out"),
) -> None:
    """Start an embedded server, create users and a group, and exercise every feature."""
    console.print(f"[bold]Fulcrum demo[/bold] — outputs in {out.resolve()}")
    try:
        world = asyncio.run(run_demo(out))
    except DemoFailed as exc:
        err_console.print(f"[red]demo check failed:[/red] {exc}")
        raise typer.Exit(1) from None
    table = Table("step", "what the demo showed", "result", title="Fulcrum demo")
    for check in world.checks:
        table.add_row(check.step, check.what, "[green]ok" if check.ok else "[red]FAILED")
    console.print(table)
    for key, value in world.facts.items():
        console.print(f"  {key}: {value}")
    console.print(
        f"[green]all {len(world.checks)} checks passed[/green]; summary: {out / 'summary.json'}"
    )
