"""The media mechanisms on one seed: B0's server-side PDQ over the plaintext media and E3's
private matching (client vouchers -> ``PlatformMatcher``), on every planted image and a uniform
random sample of the benign media, plus the leakage the platform's observations show.

B0 compares every variant's PDQ (the same normalisation as the client: EXIF, border trim, <=1024 px)
with the admitted bank entries at distance <= 31 and flags on a single match. E3 counts only
verified matches and releases review material once an account reaches the threshold t.
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from fulcrum.matching import PlatformMatcher, ThresholdReached, VoucherBundle, hamming
from fulcrum.matching.pdq import MATCH_DISTANCE, QUALITY_THRESHOLD
from fulcrum.sim.detections import Detection, MechanismRun
from fulcrum.sim.matching_world import (
    ClientPipeline,
    SendJob,
    SendResult,
    _init_worker,
    _run_chunk,
    matching_setup,
)
from fulcrum.sim.params import Mechanism
from fulcrum.sim.world import World


def _jobs(world: World) -> list[SendJob]:
    prm = world.params
    seen: set[str] = set()
    benign_full = 0
    jobs = []
    for k, send in enumerate(world.media_sends):
        first = send.spec.key not in seen
        seen.add(send.spec.key)
        planted = send.event >= 0 or send.spec.kind != "benign"
        full = first and planted and prm.full_round_planted
        if first and not full and benign_full < prm.full_round_benign:
            full, benign_full = True, benign_full + 1
        jobs.append(SendJob(k, prm.seed, send.sender, int(send.at), send.spec, full))
    return jobs


def client_bundles(world: World, progress: Callable[[int], None] | None = None) -> list[SendResult]:
    """Run the client pipeline for every sampled send (in worker processes if asked)."""
    jobs = _jobs(world)
    prm = world.params
    by_spec: dict[str, list[SendJob]] = defaultdict(list)
    for j in jobs:
        by_spec[j.spec.key].append(j)
    groups = sorted(by_spec.values(), key=lambda g: g[0].index)
    chunks: list[list[SendJob]] = []
    for k in range(0, len(groups), 8):  # identical images stay in one chunk (one cache)
        chunks.append([j for g in groups[k : k + 8] for j in g])
    results: list[SendResult] = []
    if prm.workers <= 1 or len(jobs) < 50:
        pipe = ClientPipeline(prm.matcher_threshold)
        for chunk in chunks:
            results += [pipe.run(j) for j in chunk]
            if progress:
                progress(len(chunk))
    else:
        matching_setup(prm.matcher_threshold)  # built before forking, inherited by the workers
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ctx.Pool(prm.workers, _init_worker, (prm.matcher_threshold,)) as pool:
            for out in pool.imap_unordered(_run_chunk, chunks):
                results += out
                if progress:
                    progress(len(out))
    results.sort(key=lambda r: r.index)
    return results


def _plain_match(hashes: tuple[tuple[bytes, int], ...], bank: tuple[bytes, ...]) -> int | None:
    best: int | None = None
    for value, quality in hashes:
        if quality < QUALITY_THRESHOLD:
            continue
        d = min((hamming(value, e) for e in bank), default=256)
        if d <= MATCH_DISTANCE and (best is None or d < best):
            best = d
    return best


def run_media(
    world: World, results: list[SendResult]
) -> tuple[MechanismRun, MechanismRun, dict[str, Any]]:
    """-> (B0's PDQ run, E3's matcher run, shared media facts incl. leakage and per-edit recall)."""
    prm = world.params
    setup = matching_setup(prm.matcher_threshold)
    names = world.pop.names
    actor_event = {ev.actor: ev.event_id for ev in world.events}
    matcher = PlatformMatcher(setup.manifest, setup.release.tag_table, trust=setup.trust)
    plain = MechanismRun(Mechanism.PDQ_PLAIN)
    private = MechanismRun(Mechanism.MATCHER)
    per_edit: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # sends, B0 hit, E3 hit
    sample = {"benign": [0, 0, 0], "lookalike": [0, 0, 0]}  # items, B0 false, E3 false
    tags: dict[str, list[set[bytes]]] = defaultdict(list)
    bases: dict[str, list[set[bytes]]] = defaultdict(list)
    paths = {"full": 0, "cached": 0}
    bytes_nonmatching: list[int] = []
    for res in results:
        send = world.media_sends[res.index]
        paths[res.path] += 1
        b0 = _plain_match(res.hashes, setup.bank_hashes)
        reached = matcher.process_bundle(
            names[send.sender], f"m{res.index}", res.bundle, int(send.at)
        )
        obs = matcher.observations[-1]
        harmful = send.event >= 0
        if b0 is not None:
            plain.detections.append(
                Detection(
                    Mechanism.PDQ_PLAIN,
                    send.at,
                    send.sender,
                    send.event,
                    "content_match",
                    send.spec.edit,
                )
            )
            plain.review_items += 1
        if isinstance(reached, ThresholdReached):
            private.review_items += len(reached.items)
            private.detections.append(
                Detection(
                    Mechanism.MATCHER,
                    send.at,
                    send.sender,
                    actor_event.get(send.sender, -1),
                    "account_flag",
                    f"threshold t={matcher.threshold}",
                )
            )
        if harmful:
            row = per_edit[send.spec.edit]
            row[0] += 1
            row[1] += b0 is not None
            row[2] += obs.verified
        else:
            row = sample["lookalike" if send.spec.kind == "lookalike" else "benign"]
            row[0] += 1
            row[1] += b0 is not None
            row[2] += obs.verified
        if not obs.verified:
            bytes_nonmatching.append(len(res.bundle))
        first = VoucherBundle.from_bytes(res.bundle, setup.manifest.params).variants[0]
        tagset = {v.tag for v in first.vouchers}
        tags[send.spec.key].append(tagset)
        if send.spec.kind == "bank":
            bases[f"bank:{send.spec.base}"].append(tagset)
    params = setup.manifest.params
    obs_all = matcher.observations
    nonmatch = [o for o in obs_all if not o.verified]
    n_non = max(1, len(nonmatch))
    facts: dict[str, Any] = {
        "sampled_sends": len(results),
        "client_paths": paths,
        "benign_media_total": world.benign_media_total,
        "sample": {
            k: {"items": v[0], "b0_false": v[1], "e3_false": v[2]} for k, v in sample.items()
        },
        "per_edit": {
            k: {"sends": v[0], "b0": v[1], "e3": v[2]} for k, v in sorted(per_edit.items())
        },
        "bank": {"admitted": setup.admitted, "single_source_not_admitted": setup.not_admitted},
        "matcher_threshold": matcher.threshold,
        "leakage": {
            "bundle_bytes_per_nonmatching_item": float(np.mean(bytes_nonmatching or [0])),
            "content_derived_bytes_per_nonmatching_item": params.m * 8,
            "linkability_identical_resends": _linkability(tags, identical=True),
            "tag_overlap_near_duplicates": _linkability(bases, identical=False),
            "nonmatching_with_key_hit": sum(o.key_hits > 0 for o in nonmatch) / n_non,
            "key_hits_per_nonmatching_item": sum(o.key_hits for o in nonmatch) / n_non,
            "nonmatching_payload_opened": sum(o.payload_opened for o in nonmatch) / n_non,
            "verified_below_threshold_accounts": _below_threshold(obs_all, matcher.threshold),
            "b0_server_sees": "every image in full",
        },
    }
    return plain, private, facts


def _linkability(groups: dict[str, list[set[bytes]]], *, identical: bool) -> float | None:
    """Identical re-sends: share of pairs with any equal tag. Near-duplicates (different edits of
    one item): mean share of equal tags between pairs of distinct sends."""
    vals: list[float] = []
    for sets in groups.values():
        for a in range(len(sets)):
            for b in range(a + 1, min(len(sets), a + 6)):
                common = len(sets[a] & sets[b])
                vals.append(float(common > 0) if identical else common / max(1, len(sets[a])))
    return float(np.mean(vals)) if vals else None


def _below_threshold(observations: list[Any], threshold: int) -> int:
    per: dict[str, set[str]] = defaultdict(set)
    for o in observations:
        if o.verified and o.entry_id:
            per[o.account].add(o.image_id)
    return sum(1 for v in per.values() if 0 < len(v) < threshold)
