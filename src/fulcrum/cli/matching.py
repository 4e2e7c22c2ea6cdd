"""`fulcrum bank ...` and `fulcrum custodian ...`: the custodian's hash banks and epochs.

Every command works on the custodian's files under ``<data>/custodian/`` (see
``fulcrum.server.custodian.state``); ``custodian serve`` runs the custodian role alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fulcrum.matching.errors import MatchingError

if TYPE_CHECKING:
    from fulcrum.server.custodian import CustodianState

DataOpt = Annotated[
    Path,
    typer.Option("--data", envvar="FULCRUM_DATA_DIR", help="The custodian's data directory"),
]

bank_app = typer.Typer(help="Hash banks held by the custodian.", no_args_is_help=True)
custodian_app = typer.Typer(
    help="The custodian role: serve, publish, rotate.", no_args_is_help=True
)


def _state(data: Path) -> CustodianState:
    from fulcrum.server.custodian import CustodianState

    return CustodianState(data / "custodian")


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


@bank_app.command("import")
def bank_import(
    file: Annotated[Path, typer.Argument(help="PDQ hex list (TSV/CSV) or bank CSV")],
    bank: Annotated[str, typer.Option("--bank", help="Bank name")],
    source: Annotated[str | None, typer.Option("--source", help="Who listed these hashes")] = None,
    negative: Annotated[
        bool, typer.Option("--negative", help="Known false positives (negative bank)")
    ] = False,
    data: DataOpt = Path("fulcrum-data"),
) -> None:
    """Import listings. An entry is admitted only once >= 2 independent sources list it."""
    from fulcrum.server.custodian import parse_hash_file

    try:
        listings = parse_hash_file(file.read_text(), source)
        report = _state(data).import_listings(bank, listings, negative=negative)
    except (MatchingError, OSError) as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"imported {len(listings)} listings into {bank}: {len(report.admitted)} admitted, "
        f"{len(report.single_source)} refused (single source), "
        f"{len(report.negative)} refused (negative bank), {len(report.disabled)} disabled"
    )


@bank_app.command("list")
def bank_list(data: DataOpt = Path("fulcrum-data")) -> None:
    """Admitted entries: bank, entry id, sources."""
    state = _state(data)
    for name in state.bank_names():
        for entry in state.bank(name).entries():
            typer.echo(f"{name}\t{entry.entry_id}\t{','.join(entry.sources)}")


@bank_app.command("stats")
def bank_stats(data: DataOpt = Path("fulcrum-data")) -> None:
    """Per bank: listings, admitted, refused, disabled, quarantined (JSON)."""
    typer.echo(json.dumps(_state(data).stats(), indent=2, sort_keys=True))


@bank_app.command("disable")
def bank_disable(
    entry: Annotated[str, typer.Argument(help="Entry id (from `bank list`)")],
    data: DataOpt = Path("fulcrum-data"),
) -> None:
    """Disable one entry; it leaves the tag table at the next publish or rotation."""
    try:
        name = _state(data).disable(entry)
    except MatchingError as exc:
        raise _fail(exc) from exc
    typer.echo(f"disabled {entry} in {name}; run `fulcrum custodian publish` to apply")


@custodian_app.command("publish")
def custodian_publish(
    data: DataOpt = Path("fulcrum-data"),
    threshold: Annotated[
        int | None, typer.Option("--threshold", help="Account threshold t (3-10)")
    ] = None,
    m: Annotated[int | None, typer.Option("--m", help="LSH keys per image")] = None,
) -> None:
    """Sign and publish the current epoch's manifest and tag table from the banks."""
    try:
        manifest = _state(data).publish(account_threshold=threshold, m=m)
    except (MatchingError, ValueError) as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"epoch {manifest.epoch}: {manifest.entry_count} entries, manifest "
        f"{manifest.digest().hex()[:16]}; trust roots in {data / 'custodian' / 'trust.json'}"
    )


@custodian_app.command("rotate")
def custodian_rotate(data: DataOpt = Path("fulcrum-data")) -> None:
    """Move to the next epoch: new VOPRF key and LSH seed, rebuilt tag table."""
    try:
        manifest = _state(data).rotate()
    except (MatchingError, ValueError) as exc:
        raise _fail(exc) from exc
    typer.echo(f"epoch {manifest.epoch}: {manifest.entry_count} entries")


@custodian_app.command("serve")
def custodian_serve(
    data: DataOpt = Path("fulcrum-data"),
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8090,
) -> None:
    """Run the custodian role alone (platforms point FULCRUM_MATCHING_CUSTODIAN_URL here)."""
    import uvicorn

    from fulcrum.server import create_app
    from fulcrum.server.settings import ServerSettings

    settings = ServerSettings(data_dir=data, roles=("custodian",))
    app = create_app(settings)
    _state(data)  # creates the secrets (and operator token) on first run
    secrets_file = data / "custodian" / "secrets.json"
    typer.echo(f"custodian on http://{host}:{port}; operator token in {secrets_file}", err=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
