"""`fulcrum safety publish-stats`: operator command publishing a day's rule counts to the log."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from fulcrum.cli.common import console, err_console
from fulcrum.server.safety.publish import PublishError, open_log, publish_day
from fulcrum.server.safety.service import SafetyService
from fulcrum.server.settings import ServerSettings
from fulcrum.store import Database

safety_app = typer.Typer(help="Minor protection: operator commands.", no_args_is_help=True)
DAY_SECONDS = 86_400


def _day_number(text: str | None, now: float) -> int:
    if text is None:
        return int(now // DAY_SECONDS) - 1  # yesterday (UTC)
    try:
        parsed = date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter("expected YYYY-MM-DD") from exc
    return int(datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC).timestamp()) // 86_400


@safety_app.command("publish-stats")
def publish_stats(
    day: Annotated[
        str | None, typer.Option(help="UTC day, YYYY-MM-DD (must be over); default yesterday")
    ] = None,
    data: Annotated[Path, typer.Option(help="Server data dir")] = Path("fulcrum-data"),
    db: Annotated[str | None, typer.Option(help="Database URL")] = None,
) -> None:
    """Append one SafetyRuleStats entry per rule for DAY to the transparency log (once)."""
    now = time.time()
    number = _day_number(day, now)
    settings = ServerSettings(data_dir=data, db_url=db or os.environ.get("FULCRUM_DB_URL"))
    database = Database.connect(settings.database_url)
    try:
        database.migrate()
        log = open_log(settings, database)
        published = publish_day(database, log, SafetyService(), number, now)
    except PublishError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    label = datetime.fromtimestamp(number * DAY_SECONDS, tz=UTC).date().isoformat()
    console.print(f"safety rule stats for {label}: {len(published)} rules")
    for rule, index in published.items():
        console.print(f"  {rule:28} log entry {index}")
