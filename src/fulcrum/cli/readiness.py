"""``fulcrum readiness --policy FILE``: evaluate, run the adversarial suites, sign a readiness
record and (with ``--data-dir``) append it to the server's transparency log.
``fulcrum readiness override --reason TEXT --data-dir DIR``: the operator override, logged."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from fulcrum.cli.common import console, err_console
from fulcrum.cli.simulate import RichProgress
from fulcrum.encoding import b64d
from fulcrum.sim.readiness import (
    COMPONENT,
    SCOPE,
    ReadinessError,
    build_record,
    decide,
    flat_metrics,
    load_or_create_key,
    log_metrics,
    now_s,
    parse_policy,
    run_suite,
    sign_record,
)
from fulcrum.sim.report import headline_table, write_report
from fulcrum.sim.runner import evaluate
from fulcrum.translog.entries import counts
from fulcrum.translog.entry_types import E2EEOverride, ReadinessRecord

readiness_app = typer.Typer(
    help="The readiness gate for enabling E2EE on new conversations.",
    invoke_without_command=True,
)
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Server data dir: append to its log")
]


@readiness_app.callback()
def readiness(
    ctx: typer.Context,
    policy: Annotated[Path | None, typer.Option("--policy", help="Policy TOML")] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the record")] = Path(
        "readiness-out"
    ),
    key: Annotated[Path | None, typer.Option("--key", help="Ed25519 seed file")] = None,
    data_dir: DataDirOpt = None,
    db_url: Annotated[str | None, typer.Option("--db-url")] = None,
    skip_suites: Annotated[bool, typer.Option(help="Do not run the adversarial suites")] = False,
) -> None:
    """Run the evaluation and the adversarial suites and write a signed readiness record."""
    if ctx.invoked_subcommand is not None:
        return
    if policy is None:
        raise typer.BadParameter("--policy is required", param_hint="--policy")
    text = policy.read_text()
    try:
        pol = parse_policy(text)
        params = pol.params()
    except (ReadinessError, TypeError) as exc:
        err_console.print(f"[red]policy error:[/red] {exc}")
        raise typer.Exit(2) from None
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err_console
    ) as bar:
        results = evaluate(params, RichProgress(bar))
        suites = []
        for path in () if skip_suites else pol.suites:
            task = bar.add_task(f"adversarial suite {path}", total=1)
            suites.append(run_suite(path))
            bar.advance(task)
    write_report(results, out / "evaluation")
    metrics = flat_metrics(results)
    passed, checks = decide(pol, metrics, suites)
    record = build_record(text, metrics, suites, checks, passed, now_s())
    signing = load_or_create_key(key or (data_dir or out) / "readiness" / "signing.key")
    signed = sign_record(record, signing)
    out.mkdir(parents=True, exist_ok=True)
    (out / "readiness-record.json").write_text(json.dumps(signed, indent=2, sort_keys=True))
    console.print(headline_table(results))
    for c in checks:
        mark = "[green]pass" if c["passed"] else "[red]FAIL"
        console.print(f"  {mark}[/] {c['metric']} {c['op']} {c.get('bound', '')}: {c.get('value')}")
    for s in suites:
        console.print(f"  suite {s.path}: {s.tests} tests, {s.failures + s.errors} failed")
    if data_dir is not None:
        from fulcrum.server.readiness import offline_log

        log = offline_log(data_dir, db_url)
        index = log.append(
            ReadinessRecord(
                time=record["created_at"],
                component=COMPONENT,
                version=record["fulcrum_version"],
                passed=passed,
                report_digest=b64d(signed["digest"]),
                metrics=counts(log_metrics(metrics)),
            )
        )
        log.checkpoint()
        console.print(f"appended ReadinessRecord at log index {index}")
    verdict = "[green]PASSED" if passed else "[red]FAILED"
    console.print(f"readiness {verdict}[/]: {out / 'readiness-record.json'}")
    if not passed:
        raise typer.Exit(1)


@readiness_app.command("override")
def override(
    reason: Annotated[str, typer.Option("--reason", help="Why E2EE is enabled without a pass")],
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Server data dir")],
    operator: Annotated[str, typer.Option("--operator", help="Who authorised it")] = "operator",
    hours: Annotated[int, typer.Option(min=1, max=24 * 90, help="How long it lasts")] = 72,
    db_url: Annotated[str | None, typer.Option("--db-url")] = None,
) -> None:
    """Record an operator override of the gate (a public E2EEOverride log entry)."""
    from fulcrum.server.readiness import offline_log

    now = now_s()
    entry = E2EEOverride(
        time=now,
        override_id=f"ovr-{secrets.token_hex(8)}",
        scope=SCOPE,
        reason_code=reason,
        authorized_by=operator,
        expires_at=now + hours * 3600,
    )
    log = offline_log(data_dir, db_url)
    index = log.append(entry)
    log.checkpoint()
    console.print(f"E2EEOverride {entry.override_id} logged at index {index}, for {hours} h")
