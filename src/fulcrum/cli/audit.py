"""``fulcrum audit verify``: mirror a server's transparency log and check it.

The auditor fetches every entry and the current checkpoint over HTTP and feeds them, with every
checkpoint it saw on earlier runs (``--state``), to ``fulcrum.translog.LogMonitor``: log signature,
witness quorum, the mirror's root at each checkpoint size, split views, rollbacks, consistency, and
the entry policy rules. Any finding other than an informational one exits with status 1.

The log and witness keys must be pinned: pass them with ``--log-key``/``--witness-key`` or a
``--keys-file`` (the JSON of ``GET /v1/log/keys``). ``--tofu`` fetches them from the server once
and, with ``--keys-file``, saves them there for later runs; the output says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from fulcrum.cli.common import console, err_console
from fulcrum.encoding import b64d
from fulcrum.translog import (
    AuditReport,
    CosignatureVerifier,
    Finding,
    FindingKind,
    LogMonitor,
    NoteVerifier,
    verifier_from_vkey,
)
from fulcrum.translog.errors import KeyFormatError

audit_app = typer.Typer(help="Audit the public transparency log.", no_args_is_help=True)
PAGE = 1000


@dataclass(frozen=True)
class PinnedKeys:
    log_vkey: str
    witness_vkeys: tuple[str, ...]
    min_witnesses: int = 2

    def log(self) -> NoteVerifier:
        return verifier_from_vkey(self.log_vkey)

    def witnesses(self) -> list[CosignatureVerifier]:
        return [CosignatureVerifier.from_vkey(v) for v in self.witness_vkeys]

    def to_json(self) -> dict[str, Any]:
        return {
            "log_vkey": self.log_vkey,
            "witness_vkeys": list(self.witness_vkeys),
            "min_witnesses": self.min_witnesses,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PinnedKeys:
        return cls(
            str(obj["log_vkey"]),
            tuple(str(v) for v in obj["witness_vkeys"]),
            int(obj.get("min_witnesses", 2)),
        )


def fetch_keys(http: httpx.Client, server: str) -> PinnedKeys:
    response = http.get(f"{server}/v1/log/keys")
    response.raise_for_status()
    return PinnedKeys.from_json(response.json())


def mirror_and_audit(
    http: httpx.Client, server: str, pins: PinnedKeys, seen: list[bytes]
) -> tuple[AuditReport, bytes]:
    """Mirror the whole log, then check every earlier checkpoint and the current one."""
    monitor = LogMonitor(pins.log(), pins.witnesses(), pins.min_witnesses)
    published = fetch_keys(http, server)
    if (published.log_vkey, set(published.witness_vkeys)) != (
        pins.log_vkey,
        set(pins.witness_vkeys),
    ):
        raise KeyFormatError("the server publishes keys other than the pinned ones")
    response = http.get(f"{server}/v1/log/checkpoint")
    response.raise_for_status()
    current = response.text.encode("utf-8")
    start = 0
    while True:
        page = http.get(f"{server}/v1/log/entries", params={"start": start, "end": start + PAGE})
        page.raise_for_status()
        entries = [b64d(e) for e in page.json()["entries"]]
        monitor.add_entries(entries)
        start += len(entries)
        if len(entries) < PAGE:
            break
    for note in [*seen, current]:
        monitor.observe(note)
    return monitor.report(), current


def _load_state(path: Path | None) -> list[bytes]:
    if path is None or not path.exists():
        return []
    return [n.encode("utf-8") for n in json.loads(path.read_text())["checkpoints"]]


def _save_state(path: Path | None, seen: list[bytes]) -> None:
    if path is not None:
        notes = list(dict.fromkeys(n.decode("utf-8") for n in seen))
        path.write_text(json.dumps({"checkpoints": notes}, indent=2))


def _pins(
    http: httpx.Client,
    server: str,
    log_key: str | None,
    witness_keys: list[str],
    keys_file: Path | None,
    tofu: bool,
) -> PinnedKeys:
    if log_key:
        return PinnedKeys(log_key, tuple(witness_keys))
    if keys_file is not None and keys_file.exists():
        return PinnedKeys.from_json(json.loads(keys_file.read_text()))
    if not tofu:
        err_console.print(
            "[red]no pinned keys[/red]: pass --log-key and --witness-key, a --keys-file, "
            "or --tofu to trust the server's keys on first use"
        )
        raise typer.Exit(2)
    pins = fetch_keys(http, server)
    console.print(
        "[yellow]trust on first use[/yellow]: log and witness keys fetched from the server"
        + (f" and pinned in {keys_file}" if keys_file else "")
    )
    if keys_file is not None:
        keys_file.write_text(json.dumps(pins.to_json(), indent=2))
    return pins


def print_report(report: AuditReport) -> None:
    table = Table(title=f"{report.entries} entries, {report.checkpoints} checkpoints")
    for col in ("finding", "checkpoint", "entry", "detail"):
        table.add_column(col)
    for f in report.findings:
        table.add_row(f.kind.value, _opt(f.checkpoint), _opt(f.entry), f.detail)
    console.print(table)
    if report.counts:
        console.print(
            "entries by type: " + ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
        )
    if report.latest is not None:
        console.print(f"largest verified checkpoint: size {report.latest.size}")
    verdict = "[green]log verified: 0 findings[/green]" if report.ok else "[red]FINDINGS[/red]"
    console.print(verdict)


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


@audit_app.command("verify")
def verify(
    server: Annotated[str, typer.Option("--server", envvar="FULCRUM_SERVER", help="Server URL")],
    log_key: Annotated[str | None, typer.Option("--log-key", help="Pinned log vkey")] = None,
    witness_key: Annotated[
        list[str] | None, typer.Option("--witness-key", help="Pinned witness vkey (repeat)")
    ] = None,
    keys_file: Annotated[
        Path | None, typer.Option("--keys-file", help="JSON file of pinned keys")
    ] = None,
    tofu: Annotated[
        bool, typer.Option("--tofu", help="Trust the server's keys on first use")
    ] = False,
    state: Annotated[
        Path | None, typer.Option("--state", help="File of checkpoints seen on earlier runs")
    ] = None,
) -> None:
    """Mirror the log from SERVER and check it; exit 1 on any finding."""
    server = server.rstrip("/")
    try:
        with httpx.Client(timeout=30) as http:
            pins = _pins(http, server, log_key, witness_key or [], keys_file, tofu)
            seen = _load_state(state)
            report, current = mirror_and_audit(http, server, pins, seen)
    except (httpx.HTTPError, KeyFormatError, ValueError, KeyError) as exc:
        err_console.print(f"[red]audit failed[/red]: {exc}")
        raise typer.Exit(1) from exc
    print_report(report)
    _save_state(state, [*seen, current])
    if not report.ok:
        raise typer.Exit(1)


__all__ = ["Finding", "FindingKind", "PinnedKeys", "audit_app", "mirror_and_audit", "verify"]
