"""`fulcrum trustee keygen|token|serve` and `destroy --store`: ONE trustee on its own host.

A trustee's operator runs these on the trustee's host, never on the platform's (see
docs/operator-guide.md): ``keygen --store`` makes its identity and box keys, ``token`` its operator
token, ``serve --data`` answers the DKG (``POST /dkg/...``), warrant approvals
(``POST /approvals``), ``POST /partials`` and share destruction (``POST /epochs/{e}/destroy``),
reading and verifying the platform's log itself; ``destroy --store`` destroys that trustee's own
share once its retention rule allows. The commands are registered on ``fulcrum trustee`` by
``fulcrum.cli.trustee``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fulcrum.encoding import b64e


def destroy_own(store: Path, epoch: int, retention_seconds: int | None, name: str | None) -> None:
    """``destroy --store``: this trustee's own share, under its own rule and clock."""
    import time

    from fulcrum.trustee import DEFAULT_RULES, DestructionRefused, EpochRules, destroy_own_share
    from fulcrum.trustee.keystore import TrusteeKeyStore

    if not (store / "identity.key").exists():
        typer.echo(f"error: no trustee key store in {store} (no identity.key)", err=True)
        raise typer.Exit(2)
    retention = DEFAULT_RULES.retention_seconds if retention_seconds is None else retention_seconds
    try:
        rules = EpochRules(DEFAULT_RULES.epoch_seconds, retention)
        signed = destroy_own_share(TrusteeKeyStore(store, name or store.name), epoch, rules,
                                   int(time.time()))  # fmt: skip
    except DestructionRefused as exc:
        typer.echo(f"error ({exc.code}): {exc}", err=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(signed.to_json(), indent=2))


def fingerprint(identity_key: bytes, box_key: bytes) -> str:
    """What two operators compare out of band: identity and box key, hashed and grouped."""
    from fulcrum.hazmat.symmetric import sha256

    digest = sha256(identity_key + box_key).hex()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def keygen(
    store: Annotated[Path, typer.Option("--store", help="This trustee's key store directory")],
    name: Annotated[
        str | None, typer.Option("--name", help="Trustee name (default: the directory name)")
    ] = None,
) -> None:
    """Make this trustee's identity and box keys (idempotent); print the public keys."""
    from fulcrum.trustee.keystore import TrusteeKeyStore

    ks = TrusteeKeyStore(store, name or store.name)
    identity, box = ks.identity().public_key().raw, ks.box_key().public_key()
    typer.echo(f"trustee {ks.name}")
    typer.echo(f"  identity key  {b64e(identity)}")
    typer.echo(f"  box key       {b64e(box)}")
    typer.echo(f"  fingerprint   {fingerprint(identity, box)}")


TokenFileOpt = Annotated[
    Path, typer.Option("--token-file", help="File with the operator token's hash (sha256:HEX)")
]


def token(token_file: TokenFileOpt) -> None:
    """Make an operator token: its hash goes to --token-file, the token is printed once."""
    import os
    import secrets

    from fulcrum.trustee import token_hash

    value = secrets.token_urlsafe(32)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"sha256:{token_hash(value)}\n")
    typer.echo(value)


def read_token_hash(path: Path) -> str:
    """The hex SHA-256 of the operator token: a ``sha256:HEX`` line (or the token itself)."""
    from fulcrum.trustee import token_hash

    text = path.read_text().strip()
    if text.startswith("sha256:"):
        digest = text.removeprefix("sha256:").lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"{path}: malformed sha256 token hash")
        return digest
    if not text:
        raise ValueError(f"{path}: empty token file")
    return token_hash(text)


def serve(
    data: Annotated[Path, typer.Option("--data", help="This trustee's key store directory")],
    platform: Annotated[
        str, typer.Option("--platform", help="Base URL of the platform (its /v1/log is read)")
    ],
    log_key: Annotated[str, typer.Option("--log-key", help="Pinned verifier key of the log")],
    witness_key: Annotated[
        list[str], typer.Option("--witness-key", help="Pinned witness key (repeat)")
    ],
    token_file: TokenFileOpt,
    min_witnesses: Annotated[
        int, typer.Option("--min-witnesses", help="Witness cosignatures required")
    ] = 2,
    name: Annotated[
        str | None, typer.Option("--name", help="Trustee name (default: the directory name)")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8091,
    retrospective: Annotated[
        bool, typer.Option("--retrospective", help="Approve windows that start before issue")
    ] = False,
    allow_category: Annotated[
        list[str] | None,
        typer.Option("--allow-category", help="Special category this trustee accepts (repeat)"),
    ] = None,
    agency_warrants: Annotated[
        int, typer.Option("--agency-warrants", help="Warrants per agency per year")
    ] = 20,
    agency_messages: Annotated[
        int, typer.Option("--agency-messages", help="Messages requested per agency per year")
    ] = 100_000,
    peer: Annotated[
        list[str] | None,
        typer.Option("--peer", help="Pin a peer trustee's identity key: NAME=B64KEY (repeat)"),
    ] = None,
    epoch_seconds: Annotated[
        int, typer.Option("--epoch-seconds", help="Epoch length this trustee keys (its own rule)")
    ] = 7 * 86400,
    retention_seconds: Annotated[
        int,
        typer.Option("--retention-seconds", help="How long after an epoch ends its share is kept"),
    ] = 90 * 86400,
) -> None:
    """Serve one trustee: its DKG, warrant approvals and partials, checked against the log."""
    import uvicorn

    from fulcrum.access import LogTrust, default_policy
    from fulcrum.encoding import b64d
    from fulcrum.translog import CosignatureVerifier
    from fulcrum.translog.errors import KeyFormatError
    from fulcrum.translog.note import verifier_from_vkey
    from fulcrum.trustee import EpochRules, PlatformLog, TrusteeDkg, create_trustee_app
    from fulcrum.trustee.keystore import TrusteeKeyStore

    try:
        if not (data / "identity.key").exists():
            raise ValueError(f"no trustee key store in {data} (no identity.key)")
        trust = LogTrust(verifier_from_vkey(log_key),
                         tuple(CosignatureVerifier.from_vkey(k) for k in witness_key),
                         min_witnesses)  # fmt: skip
        store = TrusteeKeyStore(data, name or data.name)
        policy = default_policy(
            retrospective=retrospective,
            allowed_categories=allow_category or (),
            agency_warrants=agency_warrants,
            agency_messages=agency_messages,
        )
        pinned = {}
        for item in peer or []:
            peer_name, sep, key = item.partition("=")
            if not sep:
                raise ValueError(f"--peer must be NAME=B64KEY: {item!r}")
            pinned[peer_name] = b64d(key, length=32)
        rules = EpochRules(epoch_seconds, retention_seconds)
        log = PlatformLog(platform, trust)
        dkg = TrusteeDkg(store, pinned=pinned, rules=rules, log=log)
        app = create_trustee_app(store, log, read_token_hash(token_file), policy=policy, dkg=dkg,
                                 rules=rules)  # fmt: skip
    except (KeyFormatError, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"trustee {store.name} serving on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")


def register(app: typer.Typer) -> None:
    """Add the trustee-host commands to ``fulcrum trustee``."""
    app.command("keygen")(keygen)
    app.command("token")(token)
    app.command("serve")(serve)
