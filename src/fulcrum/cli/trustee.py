"""`fulcrum trustee init|dkg|status|destroy --data DIR`: the in-process trustee council.

These commands act on a server's data directory: the policy (``<data>/escrow/policy.toml``),
the per-trustee key stores (``<data>/escrow/trustees/<name>``), the public epoch records and,
for ``dkg`` and ``destroy``, the server's transparency log in its database (the entries are
appended and a cosigned checkpoint is made). Run them while the server is stopped, or against a
PostgreSQL database.

``keygen``, ``token``, ``serve`` and ``destroy --store`` run ONE trustee as its own process on its
own host; they live in ``fulcrum.cli.trustee_host`` and are registered here.
On the platform, ``enroll`` pins the remote trustees' public keys and ``dkg`` (``--remote``) runs
their DKG through the coordinator when ``FULCRUM_ACCESS_TRUSTEES`` lists every trustee.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fulcrum.cli.trustee_host import destroy_own, fingerprint, read_token_hash
from fulcrum.cli.trustee_host import register as register_host_commands
from fulcrum.encoding import b64e

if TYPE_CHECKING:
    from fulcrum.server.escrow import TrusteeCouncil
    from fulcrum.store import Database

__all__ = ["read_token_hash", "trustee_app"]

trustee_app = typer.Typer(
    help="Escrow trustees: keys, DKG, status, share destruction; one trustee as its own process.",
    no_args_is_help=True,
)

DataOpt = Annotated[
    Path, typer.Option("--data", help="The server's data directory (holds escrow/ and the log)")
]
DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: the SQLite file in the data dir)"),
]


def _council(data: Path, db_url: str | None) -> tuple[TrusteeCouncil, Database]:
    from fulcrum.server.escrow import POLICY_FILE, EscrowPolicy, PolicyError, TrusteeCouncil
    from fulcrum.server.settings import ServerSettings
    from fulcrum.server.translog import open_log
    from fulcrum.store import Database

    root = data / "escrow"
    try:
        policy = EscrowPolicy.load(root / POLICY_FILE)
    except FileNotFoundError:
        typer.echo(f"error: no escrow policy in {root} (run `fulcrum trustee init`)", err=True)
        raise typer.Exit(2) from None
    except PolicyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    from fulcrum.server.access.remote import parse_trustee_urls
    from fulcrum.server.escrow import remote_coordinator

    settings = ServerSettings(data_dir=data, db_url=db_url)
    try:
        urls = parse_trustee_urls(settings.access_trustees)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    coordinator = remote_coordinator(policy, root, urls, settings.access_trustee_token,
                                     settings.access_trustee_timeout)  # fmt: skip
    db = Database.connect(settings.database_url)
    db.migrate()
    return TrusteeCouncil(policy, root, open_log(data, db), coordinator=coordinator), db


@trustee_app.command("init")
def init(
    data: DataOpt,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy TOML to install (default: n=5, t=3)")
    ] = None,
) -> None:
    """Install the escrow policy and create each trustee's identity key."""
    from fulcrum.server.escrow import DEFAULT_POLICY, POLICY_FILE, EscrowPolicy, PolicyError
    from fulcrum.trustee.keystore import TrusteeKeyStore

    root = data / "escrow"
    target = root / POLICY_FILE
    try:
        chosen = EscrowPolicy.load(policy) if policy is not None else DEFAULT_POLICY
        if target.exists() and EscrowPolicy.load(target) != chosen:
            typer.echo(f"error: {target} holds a different policy; edit it instead", err=True)
            raise typer.Exit(2)
    except (PolicyError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(chosen.to_toml())
    typer.echo(f"policy: n={chosen.n} t={chosen.t} epoch={chosen.epoch_seconds}s -> {target}")
    for name in chosen.trustees:
        key = TrusteeKeyStore(root / "trustees" / name, name).identity().public_key().raw
        typer.echo(f"  {name}  {b64e(key)}")


@trustee_app.command("dkg")
def dkg(
    data: DataOpt,
    epoch: Annotated[
        int | None, typer.Option("--epoch", help="Epoch to key (default: the current one)")
    ] = None,
    ahead: Annotated[
        bool, typer.Option("--next", help="Key the epoch after the current one")
    ] = False,
    db: DbOpt = None,
    remote: Annotated[
        bool,
        typer.Option("--remote", help="Require the remote trustees (FULCRUM_ACCESS_TRUSTEES)"),
    ] = False,
) -> None:
    """Run the trustees' DKG for an epoch; sign, log and checkpoint its key (idempotent).

    With FULCRUM_ACCESS_TRUSTEES listing every trustee (and FULCRUM_ACCESS_TRUSTEE_TOKEN), the
    DKG runs in the trustees' own processes; this command only relays their messages."""
    from fulcrum.escrow.errors import DkgError

    council, database = _council(data, db)
    try:
        if remote and not council.remote:
            typer.echo("error: FULCRUM_ACCESS_TRUSTEES must give a URL for every trustee", err=True)
            raise typer.Exit(2)
        if epoch is None:
            epoch = council.policy.epoch_at(council.clock()) + (1 if ahead else 0)
        record = council.ensure_epoch(epoch)
    except DkgError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        database.dispose()
    b = record.bundle
    typer.echo(
        f"epoch {b.epoch}: key {b64e(b.group_key.to_bytes())} t={b.threshold}/{b.n} "
        f"valid [{b.valid_from}, {b.valid_until}) ms, log index {record.log_index}"
    )


@trustee_app.command("status")
def status(data: DataOpt) -> None:
    """Show the policy, the trustees' keys and each epoch's shares (no secret is printed)."""
    from fulcrum.server.escrow import POLICY_FILE, EscrowPolicy
    from fulcrum.server.escrow.council import EpochRecord
    from fulcrum.trustee.keystore import TrusteeKeyStore

    root = data / "escrow"
    if not (root / POLICY_FILE).exists():
        typer.echo(f"escrow is off: no policy in {root}")
        raise typer.Exit(1)
    policy = EscrowPolicy.load(root / POLICY_FILE)
    typer.echo(
        f"policy: n={policy.n} t={policy.t} epoch={policy.epoch_seconds}s "
        f"retention={policy.retention_seconds}s"
    )
    from fulcrum.server.escrow import ROSTER_FILE, TrusteeRoster

    pinned = TrusteeRoster(root / ROSTER_FILE).load()
    stores = [TrusteeKeyStore(root / "trustees" / n, n) for n in policy.trustees]
    for store in stores:
        have = (store.directory / "identity.key").exists()
        key = b64e(store.identity().public_key().raw) if have else "(no key yet)"
        entry = pinned.get(store.name)
        if entry is not None:  # a remote trustee: keys pinned at enrolment
            key = f"{b64e(entry.identity_key)}  remote, fingerprint " + fingerprint(
                entry.identity_key, entry.box_key
            )
        typer.echo(f"  {store.name}  {key}")
    for path in sorted((root / "epochs").glob("*.json"), key=lambda p: int(p.stem)):
        record = EpochRecord.from_json(json.loads(path.read_text()))
        if pinned:
            kept = root / "destroyed" / str(record.bundle.epoch)
            gone = len(list(kept.glob("*.json"))) if kept.is_dir() else 0
            typer.echo(f"epoch {record.bundle.epoch}: log index {record.log_index}, "
                       f"{len(record.signatures)} trustee signatures; shares on the trustees' "
                       f"hosts, destroyed (logged) {gone}")  # fmt: skip
            continue
        held = sum(s.has_share(record.bundle.epoch) for s in stores)
        gone = sum(s.is_destroyed(record.bundle.epoch) for s in stores)
        typer.echo(
            f"epoch {record.bundle.epoch}: log index {record.log_index}, shares held {held}, "
            f"destroyed {gone}{'  (cannot be opened)' if held < record.bundle.threshold else ''}"
        )


@trustee_app.command("destroy")
def destroy(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="The server's data directory (the platform's council)"),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="ONE trustee's key store (its operator, on its own host)"),
    ] = None,
    epoch: Annotated[
        int | None, typer.Option("--epoch", help="Epoch whose shares to destroy")
    ] = None,
    trustee: Annotated[
        list[str] | None, typer.Option("--trustee", help="Only these trustees (repeatable)")
    ] = None,
    expired: Annotated[
        bool, typer.Option("--expired", help="Every epoch past its retention period")
    ] = False,
    retention_seconds: Annotated[
        int | None,
        typer.Option("--retention-seconds", help="With --store: this trustee's retention rule"),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="With --store: trustee name (default: dir name)")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Destroy epoch shares and log a ShareDestroyed entry for each.

    With --data the platform's council destroys (in-process trustees) or asks every remote
    trustee to destroy its own share, and logs each signed statement that verifies. With --store
    a trustee's operator destroys that trustee's share on its own host, once its own retention
    rule allows; the signed statement is printed and kept, and the platform logs it the next time
    it asks (`fulcrum trustee destroy --data DIR --epoch E`)."""
    if (data is None) == (store is None):
        typer.echo("error: give exactly one of --data or --store", err=True)
        raise typer.Exit(2)
    if store is not None:
        if epoch is None or expired or trustee:
            typer.echo("error: with --store give --epoch (only)", err=True)
            raise typer.Exit(2)
        destroy_own(store, epoch, retention_seconds, name)
        return
    if (epoch is None) == (not expired):
        typer.echo("error: give exactly one of --epoch or --expired", err=True)
        raise typer.Exit(2)
    assert data is not None
    council, database = _council(data, db)
    try:
        if expired:
            indices = council.destroy_expired()
        elif council.remote:
            assert epoch is not None
            report = council.destroy_remote(epoch, trustee or None)
            indices = list(report.indices)
            for who, why in sorted(report.refused.items()):
                typer.echo(f"  {who}: not destroyed: {why}")
        else:
            assert epoch is not None
            indices = council.destroy(epoch, trustee or None)
    finally:
        database.dispose()
    typer.echo(f"destroyed {len(indices)} shares; log indices {indices}")


@trustee_app.command("enroll")
def enroll(data: DataOpt, db: DbOpt = None) -> None:
    """Pin the remote trustees' identity and box keys (GET /key) in <data>/escrow/roster.json.

    Compare each printed fingerprint with the one its trustee operator reads from `keygen`."""
    import asyncio

    from fulcrum.escrow.errors import DkgError

    council, database = _council(data, db)
    database.dispose()
    if council.coordinator is None:
        typer.echo("error: FULCRUM_ACCESS_TRUSTEES must give a URL for every trustee", err=True)
        raise typer.Exit(2)
    try:
        roster, down = asyncio.run(council.coordinator.enroll())
    except DkgError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    for index, name in enumerate(council.policy.trustees, start=1):
        entry = roster.get(index)
        state = fingerprint(entry.identity_key, entry.box_key) if entry else "not pinned"
        why = f"  (unreachable now: {down[index]})" if index in down else ""
        typer.echo(f"  {index} {name}  {state}{why}")
    if len(roster) < council.policy.n:
        raise typer.Exit(1)


register_host_commands(trustee_app)

if __name__ == "__main__":
    trustee_app()
