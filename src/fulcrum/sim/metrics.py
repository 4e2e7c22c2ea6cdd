"""Metrics per configuration, with bootstrap confidence intervals.

Recall and retention: events are resampled with replacement within each replicate (stratified
bootstrap, 1,000 draws, paired across configurations so retention = recall(E)/recall(B0) is
computed on the same draw). Rates: with two or more replicates the replicate values are
bootstrapped; with one, counts get an exact Poisson (Garwood) interval. Benign media outside the
sample are extrapolated: the sample's false-match rate gets a Clopper-Pearson interval and is
scaled to all benign media of the week.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from fulcrum.sim.detections import MechanismRun
from fulcrum.sim.params import CONFIGS, DAY, Harm, Mechanism
from fulcrum.sim.world import PlantedEvent

DRAWS = 1_000
Z = 0.05  # 95% intervals


@dataclass
class SeedResult:
    seed: int
    users: int
    days: int
    messages: int
    events: list[PlantedEvent]
    runs: dict[Mechanism, MechanismRun]
    media: dict[str, Any] = field(default_factory=dict)

    def first_detection(self, config: str) -> dict[int, tuple[float, set[Mechanism]]]:
        out: dict[int, tuple[float, set[Mechanism]]] = {}
        for mech in sorted(CONFIGS[config]):
            run = self.runs.get(mech)
            for d in run.detections if run else ():
                if d.event < 0:
                    continue
                at, mechs = out.get(d.event, (float("inf"), set()))
                out[d.event] = (min(at, d.at), mechs | {mech})
        return out


def _ci(draws: np.ndarray) -> list[float]:
    lo, hi = np.nanquantile(draws, [Z / 2, 1 - Z / 2]) if len(draws) else (np.nan, np.nan)
    return [round(float(lo), 6), round(float(hi), 6)]


def _poisson_ci(k: float) -> tuple[float, float]:
    lo = 0.0 if k <= 0 else stats.chi2.ppf(Z / 2, 2 * k) / 2
    hi = stats.chi2.ppf(1 - Z / 2, 2 * k + 2) / 2
    return float(lo), float(hi)


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    lo = 0.0 if k == 0 else stats.beta.ppf(Z / 2, k, n - k + 1)
    hi = 1.0 if k == n else stats.beta.ppf(1 - Z / 2, k + 1, n - k)
    return float(lo), float(hi)


def _value(v: float) -> float | None:
    return None if v != v else round(float(v), 6)  # NaN -> None


def recall_metrics(results: list[SeedResult], configs: list[str], seed: int) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 99])
    out: dict[str, Any] = {"recall": {}, "retention": {}, "ttd_hours": {}}
    firsts = {c: [r.first_detection(c) for r in results] for c in configs}
    for harm in Harm:
        reps, det = [], {c: [] for c in configs}  # type: ignore[var-annotated]
        ttd: dict[str, list[float]] = {c: [] for c in configs}
        for k, r in enumerate(results):
            for ev in r.events:
                if ev.harm is not harm:
                    continue
                reps.append(k)
                for c in configs:
                    hit = firsts[c][k].get(ev.event_id)
                    det[c].append(hit is not None)
                    if hit is not None:
                        ttd[c].append(max(0.0, hit[0] - ev.start) / 3600)
        if not reps:
            continue
        rep_arr = np.array(reps)
        strata = [np.nonzero(rep_arr == k)[0] for k in sorted(set(reps))]
        idx = np.stack(
            [np.concatenate([rng.choice(s, len(s)) for s in strata]) for _ in range(DRAWS)]
        )
        draws = {c: np.asarray(det[c], dtype=float)[idx].mean(axis=1) for c in configs}
        out["recall"][harm.value] = {
            c: {"value": _value(float(np.mean(det[c]))), "ci": _ci(draws[c]), "n": len(reps)}
            for c in configs
        }
        if "B0" in configs:
            base = float(np.mean(det["B0"]))
            with np.errstate(divide="ignore", invalid="ignore"):
                out["retention"][harm.value] = {
                    c: {
                        "value": _value(float(np.mean(det[c])) / base if base else float("nan")),
                        "ci": _ci(np.where(draws["B0"] > 0, draws[c] / draws["B0"], np.nan)),
                    }
                    for c in configs
                    if c != "B0"
                }
        out["ttd_hours"][harm.value] = {
            c: {
                "median": _value(float(np.median(ttd[c]))) if ttd[c] else None,
                "p90": _value(float(np.quantile(ttd[c], 0.9))) if ttd[c] else None,
            }
            for c in configs
        }
    return out


def _rate(values: list[float], counts: Sequence[float], scale: float, seed: int) -> dict[str, Any]:
    v = float(np.mean(values))
    if len(values) >= 2:
        rng = np.random.default_rng([seed, 7])
        arr = np.asarray(values)
        draws = arr[rng.integers(0, len(arr), (DRAWS, len(arr)))].mean(axis=1)
        return {"value": _value(v), "ci": _ci(draws), "ci_method": "bootstrap over replicates"}
    lo, hi = _poisson_ci(counts[0])
    return {
        "value": _value(v),
        "ci": [lo * scale, hi * scale],
        "ci_method": "Poisson (1 replicate)",
    }


def _content_false(r: SeedResult, mech: Mechanism) -> tuple[float, tuple[float, float]]:
    """False content matches for the week: look-alikes as counted + benign sample scaled up."""
    key = "b0_false" if mech is Mechanism.PDQ_PLAIN else "e3_false"
    sample = r.media["sample"]
    n, k = sample["benign"]["items"], sample["benign"][key]
    look = sample["lookalike"][key]
    total = r.media["benign_media_total"]
    lo, hi = clopper_pearson(k, n)
    scale = total / n if n else 0.0
    return look + k * scale, (look + lo * total, look + hi * total)


def operational_metrics(results: list[SeedResult], config: str, seed: int) -> dict[str, Any]:
    mechs = CONFIGS[config]
    fp, flags, review, blocked = [], [], [], []
    fp_n, flag_n, review_n, blocked_n = [], [], [], []
    content: dict[str, Any] = {}
    for r in results:
        months = r.days * DAY / (30 * DAY)
        false_accounts: set[int] = set()
        fp_count = 0.0
        review_count = 0.0
        for mech in sorted(mechs):
            run = r.runs.get(mech)
            if run is None:
                continue
            review_count += run.review_items
            for d in run.detections:
                if d.event < 0 and d.kind == "account_flag":
                    false_accounts.add(d.account)
                    fp_count += 1
                if d.event < 0 and d.kind == "content_match" and mech is Mechanism.CLASSIFIER:
                    false_accounts.add(d.account)
                    fp_count += 1
            if mech in (Mechanism.PDQ_PLAIN, Mechanism.MATCHER):
                est, (lo, hi) = _content_false(r, mech)
                fp_count += est
                if mech is Mechanism.PDQ_PLAIN:
                    review_count += est - sum(1 for d in run.detections if d.event < 0)
                    false_accounts |= {d.account for d in run.detections if d.event < 0}
                content[mech.value] = {
                    "estimate": round(est, 3),
                    "ci": [round(lo, 3), round(hi, 3)],
                }
        fp.append(fp_count / r.messages * 1e6)
        fp_n.append(fp_count)
        flags.append(len(false_accounts) / r.users * 1e6 / months)
        flag_n.append(len(false_accounts))
        review.append(review_count / r.days)
        review_n.append(review_count)
        rules = r.runs.get(Mechanism.RULES)
        b = (
            rules.facts.get("legit_contacts_blocked", 0)
            if rules and Mechanism.RULES in mechs
            else 0
        )
        blocked.append(b / r.users * 1000 * 7 / r.days)
        blocked_n.append(b)
    r0 = results[0]
    return {
        "fp_per_million_messages": _rate(fp, fp_n, 1e6 / r0.messages, seed),
        "false_flags_per_million_accounts_month": _rate(
            flags, flag_n, 1e6 / r0.users / (r0.days / 30), seed
        ),
        "review_items_per_day": _rate(review, review_n, 1 / r0.days, seed),
        "legit_contacts_blocked_per_1k_users_week": _rate(
            blocked, blocked_n, 1000 / r0.users * 7 / r0.days, seed
        ),
        "false_content_matches_week": content,
    }


def report_metrics(results: list[SeedResult]) -> dict[str, Any]:
    tot: dict[str, int] = {}
    for r in results:
        for k, v in r.runs[Mechanism.REPORTS].facts.items():
            tot[k] = tot.get(k, 0) + int(v)
    verified = tot.get("genuine_verified", 0) + tot.get("benign_verified", 0)
    return {
        "counts": tot,
        "precision": _value(tot.get("genuine_verified", 0) / verified) if verified else None,
        "verification_rate": _value(tot["genuine_verified"] / tot["genuine"])
        if tot.get("genuine")
        else None,
        "fabricated_rejected_rate": _value(tot["fabricated_rejected"] / tot["fabricated"])
        if tot.get("fabricated")
        else None,
    }


def edit_metrics(results: list[SeedResult]) -> dict[str, Any]:
    tot: dict[str, list[int]] = {}
    for r in results:
        for edit, row in r.media.get("per_edit", {}).items():
            t = tot.setdefault(edit, [0, 0, 0])
            t[0] += row["sends"]
            t[1] += row["b0"]
            t[2] += row["e3"]
    return {
        e: {"sends": s, "B0": _value(b / s), "E3_item": _value(p / s)}
        for e, (s, b, p) in sorted(tot.items())
        if s
    }
