"""`fulcrum witness`: run a witness as its own process.

``serve`` cosigns checkpoints of the logs whose keys are given with ``--log-key`` over HTTP
(C2SP tlog-witness ``add-checkpoint``), keeping its key and last cosigned tree heads in ``--data``.
``key`` prints its cosignature verifier key (give it to the log operator and to auditors).
Run as ``fulcrum witness ...`` (or ``python -m fulcrum.cli.witness ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

witness_app = typer.Typer(help="Run a transparency-log witness as its own process.")

WitnessDataOpt = Annotated[Path, typer.Option("--data", help="Witness data directory")]
NameOpt = Annotated[
    str | None,
    typer.Option(
        "--name", help="Witness key name (needed the first time; e.g. witness.example.org)"
    ),
]


@witness_app.command("key")
def key(data: WitnessDataOpt, name: NameOpt = None) -> None:
    """Print this witness's cosignature verifier key (creating the key on first use)."""
    from fulcrum.witness import WitnessStore
    from fulcrum.witness.store import WitnessStoreError

    try:
        typer.echo(WitnessStore(data).signer(name).verifier().vkey)
    except WitnessStoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@witness_app.command("serve")
def serve(
    data: WitnessDataOpt,
    log_key: Annotated[
        list[str], typer.Option("--log-key", help="Verifier key of a log to witness (repeat)")
    ],
    name: NameOpt = None,
    host: Annotated[str, typer.Option("--host", help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8090,
) -> None:
    """Serve POST /add-checkpoint: cosign only checkpoints consistent with the last one."""
    import uvicorn

    from fulcrum.translog.errors import KeyFormatError
    from fulcrum.translog.note import verifier_from_vkey
    from fulcrum.witness import WitnessStore, create_witness_app
    from fulcrum.witness.store import WitnessStoreError

    try:
        logs = [verifier_from_vkey(k) for k in log_key]
        store = WitnessStore(data)
        app = create_witness_app(store, logs, name=name)
        vkey = store.signer().verifier().vkey
    except (KeyFormatError, WitnessStoreError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"witness {vkey} serving on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")


if __name__ == "__main__":
    witness_app()
