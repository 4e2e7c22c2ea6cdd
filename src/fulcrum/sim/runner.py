"""Run the evaluation: tune on the tuning seeds, freeze, run the held-out seeds through every
mechanism once, compose the configurations and compute the metrics.

    results = evaluate(SimParams(users=10_000, days=7), progress=reporter)

``results`` is JSON-ready; ``results["metrics"]`` depends only on the parameters (identical
results for identical seeds and configurations), ``results["run"]`` holds timings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any, Protocol

import numpy as np

from fulcrum.sim.classifier import run_classifier
from fulcrum.sim.media_run import client_bundles, run_media
from fulcrum.sim.metrics import (
    SeedResult,
    edit_metrics,
    operational_metrics,
    recall_metrics,
    report_metrics,
)
from fulcrum.sim.params import DAY, Harm, Mechanism, SimParams, held_out_seeds, tuning_seeds
from fulcrum.sim.planted import plant_all
from fulcrum.sim.population import build_population
from fulcrum.sim.reports_run import run_reports
from fulcrum.sim.rules_run import run_rules
from fulcrum.sim.world import World, WorldBuilder

FANOUT_CANDIDATES = (4, 5, 6)
TUNE_MAX_USERS = 2_000
TUNE_FALSE_FLAG_BUDGET = 2_000.0  # false account flags per million accounts per month


class Progress(Protocol):
    def stage(self, name: str, total: int) -> Callable[[int], None]: ...


class _Silent:
    def stage(self, name: str, total: int) -> Callable[[int], None]:
        return lambda _n: None


def build_world(params: SimParams) -> World:
    rng = np.random.default_rng([params.seed, 0])
    counts = params.planted_counts()
    planted_accounts = sum(v for k, v in counts.items() if k != "lookalike_senders")
    pop = build_population(params, rng, max(50, params.users - planted_accounts))
    builder = WorldBuilder(params, pop, rng)
    plant_all(builder)
    builder.prehistory()
    builder.new_contacts()
    return builder.build(builder.benign_traffic())


def run_seed(params: SimParams, progress: Progress, *, media: bool = True) -> SeedResult:
    world = build_world(params)
    runs: dict[Mechanism, Any] = {}
    reports, feed = run_reports(world, np.random.default_rng([params.seed, 1]))
    runs[Mechanism.REPORTS] = reports
    tick = progress.stage(f"seed {params.seed}: rules engine", world.messages)
    last = [0]

    def advance(i: int) -> None:
        tick(i - last[0])
        last[0] = i

    runs[Mechanism.RULES] = run_rules(
        world, feed, fanout_day_threshold=params.fanout_day_threshold, progress=advance
    )
    tick(world.messages - last[0])
    runs[Mechanism.CLASSIFIER] = run_classifier(world, np.random.default_rng([params.seed, 2]))
    facts: dict[str, Any] = {}
    if media:
        tick = progress.stage(f"seed {params.seed}: media pipeline", len(world.media_sends))
        bundles = client_bundles(world, tick)
        plain, private, facts = run_media(world, bundles)
        runs[Mechanism.PDQ_PLAIN], runs[Mechanism.MATCHER] = plain, private
    return SeedResult(
        params.seed, world.pop.size, params.days, world.messages, world.events, runs, facts
    )


def tune(params: SimParams, progress: Progress) -> dict[str, Any]:
    """Pick rule 3b's daily fan-out threshold on the tuning seeds (rules only, no media): the
    lowest candidate whose false account flags stay within the budget; then it is frozen."""
    seeds = tuning_seeds(params.seed)
    small = replace(params, users=min(params.users, TUNE_MAX_USERS), configs=("E2",))
    table = []
    for cand in FANOUT_CANDIDATES:
        results = [
            run_seed(replace(small, seed=s, fanout_day_threshold=cand), progress, media=False)
            for s in seeds
        ]
        ops = operational_metrics(results, "E2", params.seed)
        rec = recall_metrics(results, ["E2"], params.seed)["recall"]
        table.append(
            {
                "fanout_day_threshold": cand,
                "false_flags_per_million_accounts_month": ops[
                    "false_flags_per_million_accounts_month"
                ]["value"],
                "grooming_recall": rec.get(Harm.GROOMING.value, {}).get("E2", {}).get("value"),
            }
        )
    ok = [
        row
        for row in table
        if (row["false_flags_per_million_accounts_month"] or 0) <= TUNE_FALSE_FLAG_BUDGET
    ]
    chosen = ok[0]["fanout_day_threshold"] if ok else params.fanout_day_threshold
    return {
        "tuning_seeds": seeds,
        "users": small.users,
        "budget_false_flags_per_million_accounts_month": TUNE_FALSE_FLAG_BUDGET,
        "candidates": table,
        "chosen": {"fanout_day_threshold": chosen},
    }


def evaluate(params: SimParams, progress: Progress | None = None) -> dict[str, Any]:
    progress = progress or _Silent()
    started = time.perf_counter()
    tuning: dict[str, Any] = {"skipped": True}
    if params.tune:
        tuning = tune(params, progress)
        params = replace(params, fanout_day_threshold=tuning["chosen"]["fanout_day_threshold"])
    tuned_at = time.perf_counter()
    seeds = held_out_seeds(params.seed, params.replicates)
    results = [run_seed(params.with_seed(s), progress) for s in seeds]
    configs = list(params.configs)
    if "B0" not in configs:
        configs = ["B0", *configs]  # retention needs the baseline
    recall = recall_metrics(results, configs, params.seed)
    metrics = {
        **recall,
        "operations": {c: operational_metrics(results, c, params.seed) for c in configs},
        "reports": report_metrics(results),
        "recall_per_edit": edit_metrics(results),
        "known_media_items": _item_recall(results),
        "leakage": {str(r.seed): r.media.get("leakage") for r in results},
        "media_sample": {str(r.seed): _sample_facts(r) for r in results},
        "rules": {str(r.seed): r.runs[Mechanism.RULES].facts for r in results},
        "mechanisms_by_harm": _attribution(results),
    }
    elapsed = time.perf_counter() - started
    p = asdict(params)
    p["report_rates"] = {k.value: v for k, v in params.report_rates.items()}
    return {
        "params": p,
        "seeds": {"held_out": seeds, "tuning": tuning.get("tuning_seeds", [])},
        "tuning": tuning,
        "population": {
            str(r.seed): {"accounts": r.users, "messages": r.messages, "events": len(r.events)}
            for r in results
        },
        "metrics": metrics,
        "run": {
            "elapsed_s": round(elapsed, 2),
            "tuning_s": round(tuned_at - started, 2),
            "evaluation_s": round(elapsed - (tuned_at - started), 2),
            "messages_per_day": round(
                sum(r.messages for r in results) / len(results) / params.days
            ),
        },
    }


def _item_recall(results: list[SeedResult]) -> dict[str, Any]:
    sends = b0 = e3 = 0
    for r in results:
        for row in r.media.get("per_edit", {}).values():
            sends, b0, e3 = sends + row["sends"], b0 + row["b0"], e3 + row["e3"]
    return {
        "sends": sends,
        "B0": b0 / sends if sends else None,
        "E3": e3 / sends if sends else None,
        "retention": e3 / b0 if b0 else None,
    }


def _sample_facts(r: SeedResult) -> dict[str, Any]:
    keys = ("sampled_sends", "client_paths", "benign_media_total", "sample", "bank")
    return {k: r.media.get(k) for k in keys} | {
        "matcher_threshold": r.media.get("matcher_threshold")
    }


def _attribution(results: list[SeedResult]) -> dict[str, dict[str, int]]:
    """How many planted events of each harm each mechanism detected (over all replicates)."""
    out: dict[str, dict[str, int]] = {h.value: {} for h in Harm}
    for r in results:
        hits: dict[int, set[str]] = {}
        for mech, run in r.runs.items():
            for d in run.detections:
                if d.event >= 0:
                    hits.setdefault(d.event, set()).add(mech.value)
        for ev in r.events:
            row = out[ev.harm.value]
            row["events"] = row.get("events", 0) + 1
            for m in sorted(hits.get(ev.event_id, ())):
                row[m] = row.get(m, 0) + 1
    return out


def week_seconds(params: SimParams) -> int:
    return params.days * DAY
