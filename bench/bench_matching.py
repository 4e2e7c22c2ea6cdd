"""Private-matching costs, as ratios to PDQ hashing measured in the same process.

* client CPU per image: hash + LSH + VOPRF blind + finalize/verify + sealing (custodian
  evaluation timed separately), as a ratio to decoding+PDQ-hashing the same 1 MP JPEG;
* custodian: evaluate_batch per image; real tag-table build cost per bank entry (small N);
* platform: time per bundle against a 100,000-entry bank, using a synthesised pseudorandom tag
  table of m*N rows (plus the real rows of a small bank so matches happen);
* bytes per image on the wire.

    python bench/bench_matching.py [--entries 100000]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pdqhash
from PIL import Image
from skimage import data as skdata

from fulcrum.hazmat.signing import SigningKey
from fulcrum.matching import (
    AccountMatchingKey,
    Custodian,
    HashBank,
    ManifestTrust,
    MatchPolicy,
    PlatformMatcher,
    SourceListing,
    TableEntry,
    TagTable,
    finalize_image_vouchers,
    hash_image_bytes,
    prepare_image_vouchers,
)
from fulcrum.matching.pdq import decode_image, hash_pil

NOW = 1_750_000_000


def timed(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def one_mp_jpeg() -> bytes:
    img = Image.fromarray(skdata.astronaut()).resize((1155, 866))  # 1.0 MP
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    image = one_mp_jpeg()

    # -- small real world ----------------------------------------------------------------
    ck, sa, sb = SigningKey(b"\x01" * 32), SigningKey(b"\x02" * 32), SigningKey(b"\x03" * 32)
    bank = HashBank("bench")
    for i, name in enumerate(["astronaut", "coffee", "rocket", "camera", "chelsea"]):
        h = hash_pil(Image.fromarray(np.asarray(getattr(skdata, name)())).convert("RGB")).value
        bank.add_listings([SourceListing(h, "a", f"a{i}"), SourceListing(h, "b", f"b{i}")])
    entries = bank.entries()
    custodian = Custodian(b"\x04" * 32, ck)
    t = time.perf_counter()
    release = custodian.publish_epoch(1, entries)
    build_per_entry = (time.perf_counter() - t) / len(entries)
    manifest = release.manifest.cosigned("a", sa).cosigned("b", sb)
    trust = ManifestTrust(ck.public_key(), {"a": sa.public_key(), "b": sb.public_key()})
    account = AccountMatchingKey.generate()

    # -- baseline: decode + PDQ of the 1 MP JPEG ------------------------------------------
    arr = np.asarray(decode_image(image))
    pdq_only = timed(lambda: pdqhash.compute(arr), args.repeat)
    plain = timed(lambda: pdqhash.compute(np.asarray(decode_image(image))), args.repeat)
    baseline = timed(lambda: hash_image_bytes(image), args.repeat)

    # -- client -------------------------------------------------------------------------
    state: dict[str, object] = {}

    def step1() -> None:
        state["p"] = prepare_image_vouchers(image, manifest, trust, account, b"r" * 64, NOW)

    def step2() -> None:
        state["b"] = finalize_image_vouchers(state["p"], state["r"])  # type: ignore[arg-type]

    c1, ev, c2 = [], [], []
    for _ in range(args.repeat):
        c1.append(timed(step1, 1))
        req = state["p"].evaluation_request  # type: ignore[attr-defined]
        ev.append(
            timed(lambda req=req: state.__setitem__("r", release.evaluator.evaluate_batch(req)), 1)
        )
        c2.append(timed(step2, 1))
    client = statistics.median(c1) + statistics.median(c2)
    evaluate = statistics.median(ev)
    request_bytes = len(state["p"].evaluation_request)  # type: ignore[attr-defined]
    response_bytes = len(state["r"])  # type: ignore[arg-type]
    bundle = state["b"]
    assert isinstance(bundle, bytes)

    # -- platform at N entries (synthesised table + the real rows) ------------------------
    n, m = args.entries, manifest.m
    rng = np.random.default_rng(1)
    t = time.perf_counter()
    real = release.tag_table
    fake_entries = [TableEntry(f"x{i:07d}", rng.bytes(32)) for i in range(n - len(real.entries))]
    all_entries = list(real.entries) + fake_entries
    rows = n * m
    extra = rows - len(real)
    tags = np.concatenate([real.tags, rng.integers(0, 2**64, extra, dtype=np.uint64)])
    rows_entry = np.concatenate(
        [real.rows_entry, np.repeat(np.arange(len(real.entries), n, dtype=np.uint32), m)]
    )
    js = np.concatenate([real.j, np.tile(np.arange(m, dtype=np.uint16), n - len(real.entries))])
    keys = np.concatenate([real.keys, rng.integers(0, 256, (extra, 32), dtype=np.uint8)])
    table = TagTable(1, all_entries, tags, rows_entry, js, keys)
    del tags, keys, rows_entry, js
    synth_s = time.perf_counter() - t
    table_mb = (
        table.tags.nbytes + table.keys.nbytes + table.j.nbytes + table.rows_entry.nbytes
    ) / 2**20
    big_manifest = replace(manifest, entry_count=n)
    policy = MatchPolicy(max_bundles_per_window=10**9)
    matcher = PlatformMatcher(big_manifest, table, policy=policy, check_table_root=False)
    innocent_img = io.BytesIO()
    Image.fromarray(skdata.coffee()).rotate(30).save(innocent_img, "JPEG")
    p = prepare_image_vouchers(innocent_img.getvalue(), manifest, trust, account, b"", NOW)
    innocent = finalize_image_vouchers(p, release.evaluator.evaluate_batch(p.evaluation_request))
    counter = iter(range(10**9))
    plat_innocent = timed(
        lambda: matcher.process_bundle("u", f"i{next(counter)}", innocent, NOW), 21
    )
    plat_match = timed(lambda: matcher.process_bundle("u", f"m{next(counter)}", bundle, NOW), 21)
    assert matcher.observations[-1].verified

    print("fulcrum private matching bench (median of runs; ratios are the figure to trust)")
    print(
        f"1 MP JPEG: {len(image)} B; pdqhash.compute alone {pdq_only * 1e3:.1f} ms; "
        f"decode+PDQ (baseline, as a plaintext server hashes) {plain * 1e3:.1f} ms; "
        f"client hashing step (decode+trim+reduce+PDQ) {baseline * 1e3:.1f} ms"
    )
    print(
        f"client per image (hash + LSH + blind + verify/finalize + seal): {client * 1e3:.1f} ms "
        f"= {client / plain:.2f}x baseline (target <= 6x); {client / pdq_only:.2f}x pdqhash alone"
    )
    print(
        f"  step 1 (hash + blind) {statistics.median(c1) * 1e3:.1f} ms; "
        f"step 2 (verify + seal) {statistics.median(c2) * 1e3:.1f} ms"
    )
    print(f"custodian evaluate_batch per image: {evaluate * 1e3:.1f} ms (one core)")
    print(
        f"custodian tag-table build: {build_per_entry * 1e3:.1f} ms per bank entry "
        f"(N={len(entries)}, m={m}); N=1M -> {build_per_entry * 1e6 / 3600:.1f} core-hours"
    )
    print(
        f"platform, N={n} (synthesised {rows:,} rows, {table_mb:,.0f} MiB arrays, built in "
        f"{synth_s:.1f} s): innocent bundle {plat_innocent * 1e3:.2f} ms, "
        f"matching bundle {plat_match * 1e3:.2f} ms"
    )
    print(
        f"bytes per image: request {request_bytes}, response {response_bytes}, "
        f"bundle {len(bundle)}; total {request_bytes + response_bytes + len(bundle)}"
    )


if __name__ == "__main__":
    main()
