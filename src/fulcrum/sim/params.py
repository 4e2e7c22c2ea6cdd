"""Simulation parameters, harm types, mechanisms and the configurations compared (design note 09).

A configuration is a set of detection mechanisms; every mechanism runs once per seed and each
configuration takes the union of its mechanisms' detections, so all configurations see the same
world, the same planted events and the same random draws.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

T0 = 1_749_945_600  # 2025-06-15 00:00 UTC: the simulated week starts here
DAY = 86_400
HOUR = 3_600
SIM_YEAR = 2025


class Harm(enum.StrEnum):
    KNOWN_MEDIA = "known_media"  # edited copies of (benign stand-in) known images
    GROOMING = "grooming"  # metadata sequences: fan-out to unconnected minors, low acceptance
    SEXTORTION = "sextortion"  # new cross-border accounts, quick media to minors
    SPAM = "spam"  # bursts from new accounts to many strangers
    HARASSMENT = "harassment"  # repeated unwanted messages inside an existing contact


class Mechanism(enum.StrEnum):
    PDQ_PLAIN = "pdq_plain"  # server-side PDQ over every media item (plaintext only)
    CLASSIFIER = "classifier"  # assumed recall on unknown harmful content (plaintext only)
    REPORTS = "reports"  # user reports (franking-verified under E2EE)
    RULES = "rules"  # the metadata rules engine (fulcrum.safety)
    MATCHER = "matcher"  # private matching of known images (fulcrum.matching)


CONFIGS: dict[str, frozenset[Mechanism]] = {
    "B0": frozenset(
        {Mechanism.PDQ_PLAIN, Mechanism.CLASSIFIER, Mechanism.REPORTS, Mechanism.RULES}
    ),
    "E1": frozenset({Mechanism.REPORTS}),
    "E2": frozenset({Mechanism.REPORTS, Mechanism.RULES}),
    "E3": frozenset({Mechanism.REPORTS, Mechanism.RULES, Mechanism.MATCHER}),
}

# Which mechanism is meant to catch each harm (used by the tests and the report's legend).
EXPECTED: dict[Harm, frozenset[Mechanism]] = {
    Harm.KNOWN_MEDIA: frozenset({Mechanism.PDQ_PLAIN, Mechanism.MATCHER}),
    Harm.GROOMING: frozenset({Mechanism.RULES, Mechanism.CLASSIFIER, Mechanism.REPORTS}),
    Harm.SEXTORTION: frozenset({Mechanism.RULES, Mechanism.CLASSIFIER, Mechanism.REPORTS}),
    Harm.SPAM: frozenset({Mechanism.CLASSIFIER, Mechanism.REPORTS}),
    Harm.HARASSMENT: frozenset({Mechanism.CLASSIFIER, Mechanism.REPORTS}),
}


def default_report_rates() -> dict[Harm, float]:
    """Probability that a victim reports a harmful episode (swept in the report)."""
    return {
        Harm.KNOWN_MEDIA: 0.0,  # shared among co-offenders: nobody reports
        Harm.GROOMING: 0.05,
        Harm.SEXTORTION: 0.2,
        Harm.SPAM: 0.1,
        Harm.HARASSMENT: 0.3,
    }


@dataclass(frozen=True)
class SimParams:
    users: int = 2_000
    days: int = 7
    seed: int = 1
    replicates: int = 1
    configs: tuple[str, ...] = ("B0", "E1", "E2", "E3")
    minor_share: float = 0.2  # 10-30% per 09
    daily_active: float = 0.6
    msgs_per_active_day: float = 50.0
    media_share: float = 0.10
    one_to_one_share: float = 0.90
    forward_share: float = 0.10  # 5/10/20% per 09
    wrong_age_share: float = 0.04  # recorded birth year off by a band (minor<->adult)
    missing_age_share: float = 0.03  # no birth year at all (treated as minor by default)
    bridge_share: float = 0.02  # adults with many legitimate minor ties
    report_rates: dict[Harm, float] = field(default_factory=default_report_rates)
    benign_report_rate: float = 2e-6  # reports per benign message (mistakes, disputes)
    fabricated_report_share: float = 0.1  # of benign reports: tampered bundles (framing)
    classifier_recall: float = 0.7  # ASSUMED for B0; a simulation cannot measure a classifier
    classifier_fp_per_million: float = 5.0  # ASSUMED false flags per million messages
    sampled_media: int = 2_000  # benign media items through the real private pipeline
    full_round_benign: int = 60  # of those, with a full client VOPRF round (the rest: cached y_j)
    full_round_planted: bool = True  # every planted image's first send takes the full round
    planted_scale: float = 1.0  # multiplies the number of planted events
    matcher_threshold: int = 5  # t: verified matches per account before review material opens
    fanout_day_threshold: int = 5  # rule 3b (tuned on the tuning seeds)
    workers: int = 1  # processes for the media pipeline
    tune: bool = True

    def with_seed(self, seed: int) -> SimParams:
        return replace(self, seed=seed)

    def planted_counts(self) -> dict[str, int]:
        k = self.users / 10_000 * self.planted_scale

        def n(base: float, least: int) -> int:
            return max(least, round(base * k))

        return {
            "sharers": n(30, 3),
            "lookalike_senders": n(20, 2),
            "groomers": n(20, 3),
            "sextortion": n(10, 2),
            "spammers": n(10, 2),
            "harassers": n(30, 3),
        }


def tuning_seeds(seed: int, n: int = 1) -> list[int]:
    """Seeds reserved for tuning, disjoint from the held-out seeds ``seed .. seed+replicates-1``."""
    return [1_000_000 + seed + i for i in range(n)]


def held_out_seeds(seed: int, replicates: int) -> list[int]:
    return [seed + i for i in range(replicates)]
