"""`fulcrum serve`: run the server (roles and the rest from FULCRUM_* environment variables)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: SQLite in the data dir; postgresql+psycopg://... for "
        "PostgreSQL). Env: FULCRUM_DB_URL",
    ),
]
HostOpt = Annotated[str, typer.Option("--host", help="Interface to bind")]
PortOpt = Annotated[int, typer.Option("--port", help="TCP port")]
DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="Data directory (SQLite file, state). Env: FULCRUM_DATA_DIR"),
]
EscrowPolicyOpt = Annotated[
    Path | None,
    typer.Option(
        "--escrow-policy",
        help="Escrow policy TOML; installed as <data>/escrow/policy.toml (which is read when "
        "this option is not given). Without a policy escrow is off and clients refuse to send.",
    ),
]


def install_escrow_policy(data_dir: Path, source: Path) -> None:
    """Validate ``source`` and install it as the data dir's escrow policy."""
    from fulcrum.server.escrow import POLICY_FILE, EscrowPolicy

    policy = EscrowPolicy.load(source)
    target = data_dir / "escrow" / POLICY_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(policy.to_toml())


def serve(
    db: DbOpt = None,
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8080,
    data: DataOpt = None,
    escrow_policy: EscrowPolicyOpt = None,
) -> None:
    """Run the Fulcrum server (migrates the database first)."""
    import uvicorn
    from pydantic import ValidationError

    from fulcrum.server import create_app
    from fulcrum.server.escrow import POLICY_FILE, PolicyError
    from fulcrum.server.observability import configure_logging
    from fulcrum.server.settings import ServerSettings
    from fulcrum.store import StoreError

    overrides: dict[str, Any] = {}
    if db is not None:
        overrides["db_url"] = db
    if data is not None:
        overrides["data_dir"] = data
    try:
        settings = ServerSettings(**overrides)
    except ValidationError as exc:
        typer.echo(f"error: invalid settings: {exc}", err=True)
        raise typer.Exit(2) from exc
    configure_logging(settings.log_level)
    if escrow_policy is not None:
        try:
            install_escrow_policy(settings.data_dir, escrow_policy)
        except (PolicyError, OSError) as exc:
            typer.echo(f"error: escrow policy: {exc}", err=True)
            raise typer.Exit(2) from exc
    if not (settings.data_dir / "escrow" / POLICY_FILE).exists():
        typer.echo(
            "warning: no escrow policy: escrow is off and clients will refuse to send", err=True
        )
    elif "log" not in settings.roles:
        typer.echo("warning: escrow is on but the log role is not served here", err=True)
    try:
        app = create_app(settings)
    except (StoreError, PolicyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"fulcrum serving roles {list(settings.roles)} on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
