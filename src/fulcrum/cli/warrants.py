"""`fulcrum judge|warrant|evidence ...`: the warrant workflow from the command line.

Judges keep their Ed25519 key in a file (``judge keygen``); warrants and extensions are signed
offline (``warrant sign``, ``warrant extend``). Everything else talks to a server's access role
with an operator token (``--token`` or ``FULCRUM_ACCESS_TOKEN``), created on the server's data
directory with ``warrant operator``. ``evidence verify`` is fully offline: it needs only the bundle
and a keys file (``evidence keys`` saves the server's exporter, log and witness keys once).
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from fulcrum.encoding import b64d, b64e

judge_app = typer.Typer(help="Judges: signing keys and their registration in the log.",
                        no_args_is_help=True)  # fmt: skip
warrant_app = typer.Typer(help="Warrants: create, sign, submit, follow, export, notify.",
                          no_args_is_help=True)  # fmt: skip
evidence_app = typer.Typer(help="Evidence bundles: export and offline verification.",
                           no_args_is_help=True)  # fmt: skip

ServerOpt = Annotated[str, typer.Option("--server", envvar="FULCRUM_SERVER", help="Server URL")]
TokenOpt = Annotated[
    str, typer.Option("--token", envvar="FULCRUM_ACCESS_TOKEN", help="Operator token")
]
DAY = 86_400


def _when(text: str) -> int:
    """Unix seconds from an integer or an ISO 8601 date/time (UTC if no zone)."""
    if text.isdigit():
        return int(text)
    parsed = datetime.fromisoformat(text)
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


def _secret_file(path: Path, data: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(data)


def _judge_key(path: Path) -> Any:
    from fulcrum.hazmat.signing import SigningKey

    return SigningKey(b64d(path.read_text().strip(), length=32))


def _call(server: str, token: str, method: str, path: str, body: Any = None) -> Any:
    try:
        r = httpx.request(method, f"{server.rstrip('/')}/v1/access{path}", json=body,
                          headers={"Authorization": f"Bearer {token}"}, timeout=300)  # fmt: skip
    except httpx.HTTPError as exc:
        typer.echo(f"error: server unreachable: {exc}", err=True)
        raise typer.Exit(3) from None
    if r.status_code >= 400:
        try:
            err = r.json()["error"]
            typer.echo(f"refused: {err['message']} ({err['code']}, HTTP {r.status_code})", err=True)
        except (ValueError, KeyError, TypeError):
            typer.echo(f"refused: HTTP {r.status_code}", err=True)
        raise typer.Exit(2)
    return r if method == "GET" and path.endswith(".zip") else r.json()


def _print_status(status: dict[str, Any]) -> None:
    typer.echo(f"{status['warrant_id']}: {status['stage']} ({status['retained']} retained)")
    for note in status.get("notes", []):
        typer.echo(f"  note: {note}")
    for step in status["steps"]:
        typer.echo(f"  [{step['log_index']:>6}] {step['step']:<20} {step['detail']}")


# --- judges ------------------------------------------------------------------------------------


@judge_app.command("keygen")
def judge_keygen(out: Annotated[Path, typer.Option("--out", help="Secret key file")]) -> None:
    """Create a judge signing key (0600) and ``<out>.pub`` with its public key."""
    from fulcrum.hazmat.signing import SigningKey

    key = SigningKey.generate()
    _secret_file(out, b64e(key.seed) + "\n")
    Path(f"{out}.pub").write_text(b64e(key.public_key().raw) + "\n")
    typer.echo(f"public key {b64e(key.public_key().raw)}")


@judge_app.command("register")
def judge_register(
    server: ServerOpt,
    token: TokenOpt,
    key_id: Annotated[str, typer.Option("--key-id")],
    court: Annotated[str, typer.Option("--court")],
    public_key: Annotated[Path, typer.Option("--public-key", help="The .pub file")],
    valid_days: Annotated[int, typer.Option("--valid-days")] = 365,
) -> None:
    """Log a judge key (``JudgeKeyRegistered``); needs an operator token."""
    now = int(time.time())
    body = {"judge_key_id": key_id, "court": court, "public_key": public_key.read_text().strip(),
            "valid_from": now - DAY, "valid_until": now + valid_days * DAY}  # fmt: skip
    typer.echo(f"logged at index {_call(server, token, 'POST', '/judge-keys', body)['log_index']}")


# --- warrants ----------------------------------------------------------------------------------


@warrant_app.command("operator")
def warrant_operator(
    name: str,
    role: Annotated[str, typer.Option("--role", help="judge, authority or operator")],
    data: Annotated[Path, typer.Option("--data", help="The server's data directory")],
    db_url: Annotated[str | None, typer.Option("--db")] = None,
) -> None:
    """Create an access-role token (printed once; only its hash is stored)."""
    from fulcrum.server.access.operators import create_operator
    from fulcrum.server.settings import ServerSettings
    from fulcrum.store import Database

    db = Database.connect(ServerSettings(data_dir=data, db_url=db_url).database_url)
    db.migrate()
    typer.echo(create_operator(db, name, role))


@warrant_app.command("create")
def warrant_create(
    out: Annotated[Path, typer.Option("--out")],
    agency: Annotated[str, typer.Option("--agency")],
    jurisdiction: Annotated[str, typer.Option("--jurisdiction")],
    serial: Annotated[str, typer.Option("--serial")],
    target: Annotated[list[str], typer.Option("--target", help="Account (repeatable)")],
    judge_key_id: Annotated[str, typer.Option("--judge-key-id")],
    legal_basis: Annotated[str, typer.Option("--legal-basis")],
    start: Annotated[str | None, typer.Option("--start", help="Unix or ISO; default now")] = None,
    days: Annotated[int, typer.Option("--days", help="Window length")] = 30,
    max_messages: Annotated[int, typer.Option("--max-messages")] = 10_000,
) -> None:
    """Write an unsigned warrant document (canonical JSON)."""
    from fulcrum.access import Warrant, warrant_id_for

    now = int(time.time())
    begin = now if start is None else _when(start)
    w = Warrant.create(warrant_id=warrant_id_for(jurisdiction, agency, serial), agency=agency,
                       jurisdiction=jurisdiction, legal_basis=legal_basis, targets=target,
                       window_start=begin, window_end=max(begin, now) + days * DAY, issued_at=now,
                       judge_key_id=judge_key_id, max_messages=max_messages)  # fmt: skip
    out.write_bytes(w.to_bytes())
    typer.echo(f"warrant {w.warrant_id} written to {out}")


@warrant_app.command("sign")
def warrant_sign(
    warrant: Path,
    key: Annotated[Path, typer.Option("--key", help="Judge key file")],
    out: Annotated[Path, typer.Option("--out")],
) -> None:
    """Sign a warrant document with a judge key (offline)."""
    from fulcrum.access import Warrant, sign_warrant

    signed = sign_warrant(Warrant.from_bytes(warrant.read_bytes()), _judge_key(key))
    out.write_bytes(signed.to_bytes())
    typer.echo(f"signed warrant written to {out}")


@warrant_app.command("submit")
def warrant_submit(signed: Path, server: ServerOpt, token: TokenOpt) -> None:
    """Submit a signed warrant (``WarrantRegistered``), then have the trustees decide."""
    body = {"signed_warrant": b64e(signed.read_bytes())}
    status = _call(server, token, "POST", "/warrants", body)
    _print_status(status)


@warrant_app.command("approve")
def warrant_approve(warrant_id: str, server: ServerOpt, token: TokenOpt) -> None:
    """Run the in-process trustees' independent decisions (operator token)."""
    _print_status(_call(server, token, "POST", f"/warrants/{warrant_id}/approvals"))


@warrant_app.command("status")
def warrant_status(warrant_id: str, server: ServerOpt, token: TokenOpt) -> None:
    """The warrant's stage and every logged step with its log index."""
    _print_status(_call(server, token, "GET", f"/warrants/{warrant_id}"))


@warrant_app.command("request")
def warrant_request(
    warrant_id: str,
    server: ServerOpt,
    token: TokenOpt,
    trustees: Annotated[
        bool, typer.Option(help="Also have the trustees answer, then combine")
    ] = True,
) -> None:
    """Request decryption of the retained messages in scope (``DecryptionRequested``)."""
    out = _call(server, token, "POST", f"/warrants/{warrant_id}/requests", {"checkpoint": True})
    for rid in out["request_ids"]:
        typer.echo(f"request {rid}")
        if trustees:
            _call(server, token, "POST", f"/requests/{rid}/partials", {})
            _call(server, token, "POST", f"/requests/{rid}/complete")
    _print_status(_call(server, token, "GET", f"/warrants/{warrant_id}"))


@warrant_app.command("export")
def warrant_export(
    warrant_id: str,
    server: ServerOpt,
    token: TokenOpt,
    recipient: Annotated[str, typer.Option("--recipient")],
    out: Annotated[Path, typer.Option("--out", help="Where to save the zip")],
) -> None:
    """Export the evidence bundle (``EvidenceExported``) and download it as a zip."""
    done = _call(server, token, "POST", f"/warrants/{warrant_id}/export", {"recipient": recipient})
    zipped = _call(server, token, "GET", done["download"].removeprefix("/v1/access"))
    out.write_bytes(zipped.content)
    typer.echo(f"{done['case_id']}: {done['decrypted']}/{done['messages']} decrypted -> {out}")


@warrant_app.command("notify-due")
def warrant_notify_due(server: ServerOpt, token: TokenOpt) -> None:
    """Unseal warrants whose notify-after has passed and notify their targets (run from cron)."""
    for wid in _call(server, token, "POST", "/notify-due")["warrant_ids"]:
        typer.echo(f"unsealed {wid}")


@warrant_app.command("extend")
def warrant_extend(
    signed: Annotated[Path, typer.Option("--warrant", help="The signed warrant")],
    key: Annotated[Path, typer.Option("--key", help="Judge key file")],
    until: Annotated[str, typer.Option("--until", help="Unix or ISO")],
    reason: Annotated[str, typer.Option("--reason")],
    server: ServerOpt,
    token: TokenOpt,
) -> None:
    """Sign a notification extension and log it (``NotificationDelayed``; judge token)."""
    from fulcrum.access import SignedWarrant, sign_extension

    w = SignedWarrant.from_bytes(signed.read_bytes()).warrant
    ext = sign_extension(w, delayed_until=_when(until), reason=reason,
                         judge_key_id=w.judge_key_id, issued_at=int(time.time()),
                         key=_judge_key(key))  # fmt: skip
    body = {"extension": b64e(ext.to_bytes())}
    out = _call(server, token, "POST", f"/warrants/{w.warrant_id}/extensions", body)
    typer.echo(f"logged at index {out['log_index']}")


# --- evidence ----------------------------------------------------------------------------------


@evidence_app.command("export")
def evidence_export(
    warrant_id: str,
    server: ServerOpt,
    token: TokenOpt,
    recipient: Annotated[str, typer.Option("--recipient")],
    out: Annotated[Path, typer.Option("--out")],
) -> None:
    """Same as ``warrant export``."""
    warrant_export(warrant_id, server, token, recipient, out)


@evidence_app.command("keys")
def evidence_keys(server: ServerOpt, out: Annotated[Path, typer.Option("--out")]) -> None:
    """Save the exporter, log and witness keys (trust on first use; compare out of band)."""
    base = server.rstrip("/")
    keys = httpx.get(f"{base}/v1/log/keys", timeout=30).json()
    keys["exporters"] = [httpx.get(f"{base}/v1/access/keys", timeout=30).json()["exporter"]]
    out.write_text(json.dumps(keys, indent=2))
    typer.echo(f"keys written to {out}")


@evidence_app.command("verify")
def evidence_verify(
    bundle: Path,
    keys_file: Annotated[Path, typer.Option("--keys", help="From `fulcrum evidence keys`")],
) -> None:
    """Verify a bundle (directory or zip) offline; exits 1 and names every failure."""
    from fulcrum.evidence import TrustedKeys, verify_bundle
    from fulcrum.hazmat.signing import VerifyKey
    from fulcrum.translog import CosignatureVerifier, verifier_from_vkey

    keys = json.loads(keys_file.read_text())
    trusted = TrustedKeys(
        tuple(VerifyKey(b64d(k, length=32)) for k in keys["exporters"]),
        verifier_from_vkey(keys["log_vkey"]),
        tuple(CosignatureVerifier.from_vkey(v) for v in keys["witness_vkeys"]),
        int(keys.get("min_witnesses", 2)),
    )
    report = verify_bundle(bundle, trusted)
    for check in report.passed:
        typer.echo(f"ok    {check}")
    for f in report.failures:
        typer.echo(f"FAIL  {f.file}: {f.check}: {f.detail}")
    typer.echo("bundle verifies" if report.ok else "bundle does NOT verify")
    if not report.ok:
        raise typer.Exit(1)
