"""``fulcrum simulate``: the safety evaluation harness (design note 09); and ``fulcrum readiness``,
the gate that decides whether E2EE may be enabled for new conversations."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from fulcrum.cli.common import console, err_console
from fulcrum.sim.params import CONFIGS, SimParams
from fulcrum.sim.report import headline_table, write_report
from fulcrum.sim.runner import evaluate


class RichProgress:
    """A rich progress bar with one task per stage."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def stage(self, name: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(name, total=max(1, total))
        return lambda n: self.progress.advance(task, n)


def parse_configs(text: str) -> tuple[str, ...]:
    configs = tuple(c.strip().upper() for c in text.split(",") if c.strip())
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown or not configs:
        raise typer.BadParameter(f"unknown configurations {unknown}; known: {sorted(CONFIGS)}")
    return configs


def simulate(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and results.json")],
    users: Annotated[int, typer.Option(min=50, help="Accounts in the population")] = 10_000,
    days: Annotated[int, typer.Option(min=1, max=30, help="Simulated days")] = 7,
    seed: Annotated[int, typer.Option(help="First held-out seed")] = 1,
    replicates: Annotated[int, typer.Option(min=1, help="Held-out seeds")] = 1,
    config: Annotated[str, typer.Option("--config", help="Configurations")] = "B0,E1,E2,E3",
    sampled_media: Annotated[
        int, typer.Option(min=0, help="Benign media through the real private pipeline")
    ] = 2_000,
    classifier_recall: Annotated[
        float, typer.Option(min=0, max=1, help="ASSUMED recall of B0's classifier")
    ] = 0.7,
    workers: Annotated[int, typer.Option(min=1, help="Processes for the media pipeline")] = (
        os.cpu_count() or 1
    ),
    tune: Annotated[bool, typer.Option(help="Tune thresholds on the tuning seeds first")] = True,
) -> None:
    """Run the simulated world through B0/E1/E2/E3 and write the report."""
    params = SimParams(
        users=users,
        days=days,
        seed=seed,
        replicates=replicates,
        configs=parse_configs(config),
        sampled_media=sampled_media,
        classifier_recall=classifier_recall,
        workers=workers,
        tune=tune,
    )
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err_console
    ) as bar:
        results = evaluate(params, RichProgress(bar))
    path = write_report(results, out)
    console.print(headline_table(results))
    console.print(f"report: {path}  results: {out / 'results.json'}")
    console.print(f"elapsed: {time.perf_counter() - started:.1f} s")
