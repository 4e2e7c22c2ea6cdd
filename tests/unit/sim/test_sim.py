"""The evaluation harness: determinism, each planted harm caught by the mechanism meant to catch
it (and by no other), B0's baseline, and the client path shortcut giving the same vouchers."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache

import pytest

from fulcrum.matching import VoucherBundle
from fulcrum.sim.images import ImageSpec
from fulcrum.sim.matching_world import ClientPipeline, SendJob, matching_setup
from fulcrum.sim.metrics import SeedResult
from fulcrum.sim.params import Harm, Mechanism, SimParams
from fulcrum.sim.runner import _Silent as Silent
from fulcrum.sim.runner import build_world, evaluate, run_seed

pytestmark = pytest.mark.unit

CLEAN = SimParams(
    users=400,
    days=3,
    sampled_media=12,
    full_round_benign=1,
    wrong_age_share=0.0,
    missing_age_share=0.0,
    classifier_recall=1.0,
    tune=False,
    report_rates={
        Harm.KNOWN_MEDIA: 0.0,
        Harm.GROOMING: 0.0,
        Harm.SEXTORTION: 0.0,
        Harm.SPAM: 0.0,
        Harm.HARASSMENT: 1.0,
    },
)


@lru_cache(maxsize=1)
def clean_run() -> SeedResult:
    return run_seed(CLEAN, Silent())


def _mechanisms(result: SeedResult) -> dict[int, set[Mechanism]]:
    out: dict[int, set[Mechanism]] = {}
    for mech, run in result.runs.items():
        for d in run.detections:
            if d.event >= 0:
                out.setdefault(d.event, set()).add(mech)
    return out


def test_identical_results_for_identical_seed_and_config() -> None:
    small = replace(
        CLEAN,
        users=150,
        days=1,
        sampled_media=6,
        full_round_benign=0,
        full_round_planted=False,
        report_rates=SimParams().report_rates,
    )
    a, b = evaluate(small), evaluate(small)
    assert json.dumps(a["metrics"], sort_keys=True) == json.dumps(b["metrics"], sort_keys=True)
    w1, w2 = build_world(small), build_world(replace(small, seed=2))
    assert w1.messages != w2.messages  # another seed is another world


def test_known_images_are_caught_by_media_matching_only() -> None:
    r = clean_run()
    mechs = _mechanisms(r)
    sharers = [e for e in r.events if e.harm is Harm.KNOWN_MEDIA]
    assert sharers
    for ev in sharers:
        found = mechs.get(ev.event_id, set())
        assert found <= {Mechanism.PDQ_PLAIN, Mechanism.MATCHER}
    assert any(Mechanism.MATCHER in mechs.get(e.event_id, set()) for e in sharers)
    # B0's server-side PDQ catches every sharer with at least one PDQ-robust edit
    assert all(Mechanism.PDQ_PLAIN in mechs.get(e.event_id, set()) for e in sharers)


def test_grooming_and_sextortion_are_caught_by_the_rules_not_by_reports_or_media() -> None:
    r = clean_run()
    mechs = _mechanisms(r)
    for harm in (Harm.GROOMING, Harm.SEXTORTION):
        events = [e for e in r.events if e.harm is harm]
        assert any(Mechanism.RULES in mechs.get(e.event_id, set()) for e in events), harm
        for e in events:
            found = mechs.get(e.event_id, set()) - {Mechanism.CLASSIFIER}
            assert found <= {Mechanism.RULES}, (harm, found)


def test_harassment_and_spam_are_caught_by_reports_not_by_rules_or_media() -> None:
    r = clean_run()
    mechs = _mechanisms(r)
    harassment = [e for e in r.events if e.harm is Harm.HARASSMENT]
    assert harassment and all(Mechanism.REPORTS in mechs.get(e.event_id, set()) for e in harassment)
    complaint_flags = {
        d.event for d in r.runs[Mechanism.RULES].detections if d.detail == "R3a-minor-complaint"
    }
    for e in r.events:
        found = mechs.get(e.event_id, set()) - {Mechanism.CLASSIFIER, Mechanism.REPORTS}
        if e.harm is Harm.SPAM:  # adult victims with correct ages: no rule applies
            assert found == set()
        elif e.harm is Harm.HARASSMENT:  # only a minor victim's complaint reaches the rules
            assert found <= {Mechanism.RULES} and (not found or e.event_id in complaint_flags)
    facts = r.runs[Mechanism.REPORTS].facts
    assert facts["genuine"] == facts["genuine_verified"] > 0  # franking verifies every report
    assert facts["fabricated"] == facts["fabricated_rejected"] > 0  # and rejects framing


def test_b0_catches_what_it_should() -> None:
    r = clean_run()
    hit = {d.event for run in (r.runs[Mechanism.CLASSIFIER],) for d in run.detections}
    # the classifier at assumed recall 1.0 covers every unknown-content harm, never known media
    for e in r.events:
        assert (e.event_id in hit) == (e.harm is not Harm.KNOWN_MEDIA)
    per_edit = r.media["per_edit"]
    for edit in ("none", "jpeg", "resize", "border"):
        if edit in per_edit:
            assert per_edit[edit]["b0"] == per_edit[edit]["sends"]
    for edit in ("flip", "crop5"):
        if edit in per_edit:
            assert per_edit[edit]["b0"] == 0 and per_edit[edit]["e3"] == 0


def test_cached_client_path_gives_the_same_tags_as_a_full_voprf_round() -> None:
    pipe = ClientPipeline(5)
    spec = ImageSpec("bank", 0, "jpeg")
    full = pipe.run(SendJob(0, 1, 7, 1_750_000_000, spec, True))
    cached = pipe.run(SendJob(1, 1, 7, 1_750_000_000, spec, False))
    params = matching_setup(5).manifest.params
    tags = [
        [v.tag for v in VoucherBundle.from_bytes(x.bundle, params).variants[0].vouchers]
        for x in (full, cached)
    ]
    assert tags[0] == tags[1] and full.bundle != cached.bundle  # same PRF outputs, fresh seal
    assert (full.path, cached.path) == ("full", "cached")
