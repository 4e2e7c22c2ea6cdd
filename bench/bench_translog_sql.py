"""The SQL-backed transparency log on SQLite: appends, checkpoints and proofs on the way to 1M.

Ours: ``fulcrum.server.translog.TransparencyLog`` as the server opens it (``open_log``, three
in-process witnesses) over a fresh SQLite file in a temp dir (WAL, synchronous=NORMAL as served).
Entries are typed ``AbuseReportStats`` values, encoded canonically by ``append_in``.

* single appends: ``log.append(entry)``, one write transaction each (the path features use);
* bulk appends: ``log.append_in(session, entry)`` in transactions of ``--batch`` entries (the only
  way to reach 1M in minutes; per-entry transactions are timed on a sample at every milestone);
* at each milestone (10k, 100k, 1M): a cosigned checkpoint (3 in-process witnesses, each checking
  consistency with the head it cosigned before), inclusion and consistency proofs generated from
  the database and verified against the checkpoint root, and the DB size on disk.

Baseline, measured in this run: ``InMemoryTree.append`` of the same entry bytes (bench_translog.py
covers the in-memory tree at 1M). If ``--budget`` seconds run out before the last milestone, the
run stops at the size reached and prints an extrapolation, marked as such.

Run: python bench/bench_translog_sql.py [--sizes 10000,100000,1000000] [--batch 1000]
     [--single 1000] [--proofs 200] [--budget 720]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fulcrum.server.translog import TransparencyLog, open_log
from fulcrum.store import Database
from fulcrum.store.translog import LogTables
from fulcrum.translog import (
    AbuseReportStats,
    InMemoryTree,
    counts,
    encode_entry,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

US = 1e6


def entry(i: int) -> AbuseReportStats:
    return AbuseReportStats(
        time=1_700_000_060 + i * 60,
        period_start=1_700_000_000 + i * 60,
        period_end=1_700_000_060 + i * 60,
        counts=counts({"spam": i % 97, "harassment": i % 13}),
    )


def entries(start: int, end: int) -> Iterator[AbuseReportStats]:
    return (entry(i) for i in range(start, end))


@dataclass(frozen=True)
class Row:
    size: int
    bulk_us: float  # per entry, over the bulk segment that reached this size
    single_p50_ms: float
    single_p99_ms: float
    checkpoint_ms: float
    inc_gen_ms: float
    inc_ver_us: float
    inc_len: float
    con_gen_ms: float
    con_ver_us: float
    con_len: float
    db_mib: float


def db_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.glob("bench.db*"))


def fold_wal(path: Path) -> None:
    """Checkpoint the WAL into the main file so the size on disk is the database's."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def bulk(log: TransparencyLog, start: int, end: int, batch: int) -> float:
    t0 = time.perf_counter()
    for lo in range(start, end, batch):
        with log.db.write() as s:
            for e in entries(lo, min(lo + batch, end)):
                log.append_in(s, e)
    return time.perf_counter() - t0


def singles(log: TransparencyLog, start: int, count: int) -> list[float]:
    out = []
    for e in entries(start, start + count):
        t0 = time.perf_counter()
        log.append(e)
        out.append(time.perf_counter() - t0)
    return out


def measure(log: TransparencyLog, n: int, k: int, rng: random.Random) -> dict[str, float]:
    t0 = time.perf_counter()
    note = log.checkpoint()
    t_cp = time.perf_counter() - t0
    assert note.size == n, (note.size, n)
    root = note.root_hash

    indices = [rng.randrange(n) for _ in range(k)]
    t0 = time.perf_counter()
    inclusion = [log.inclusion_proof(i, n) for i in indices]
    t_inc = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i, (leaf, proof) in zip(indices, inclusion, strict=True):
        verify_inclusion(leaf, i, n, proof, root)
    t_inc_v = time.perf_counter() - t0

    olds = [rng.randrange(1, n) for _ in range(k)]
    with log.db.read() as s:  # a verifier has these from earlier checkpoints: not timed
        tree = LogTables(s).tree()
        old_roots = [root_hash(tree, m) for m in olds]
    t0 = time.perf_counter()
    consistency = [log.consistency_proof(m, n) for m in olds]
    t_con = time.perf_counter() - t0
    t0 = time.perf_counter()
    for m, r, proof in zip(olds, old_roots, consistency, strict=True):
        verify_consistency(m, n, proof, r, root)
    t_con_v = time.perf_counter() - t0
    return {
        "checkpoint_ms": t_cp * 1e3,
        "inc_gen_ms": t_inc / k * 1e3,
        "inc_ver_us": t_inc_v / k * US,
        "inc_len": sum(len(p) for _, p in inclusion) / k,
        "con_gen_ms": t_con / k * 1e3,
        "con_ver_us": t_con_v / k * US,
        "con_len": sum(map(len, consistency)) / k,
    }


def baseline_us(count: int) -> float:
    data = [encode_entry(e) for e in entries(0, count)]
    tree = InMemoryTree()
    t0 = time.perf_counter()
    for d in data:
        tree.append(d)
    return (time.perf_counter() - t0) / count * US


def print_table(rows: list[Row]) -> None:
    print(
        f"{'size':>10} {'bulk µs/e':>9} {'1-tx p50':>8} {'1-tx p99':>8} {'ckpt ms':>8} "
        f"{'inc gen':>8} {'inc ver':>8} {'con gen':>8} {'con ver':>8} {'DB MiB':>7}"
    )
    for r in rows:
        print(
            f"{r.size:>10,} {r.bulk_us:>9.1f} {r.single_p50_ms:>6.2f}ms {r.single_p99_ms:>6.2f}ms "
            f"{r.checkpoint_ms:>8.1f} {r.inc_gen_ms:>6.2f}ms {r.inc_ver_us:>6.1f}µs "
            f"{r.con_gen_ms:>6.2f}ms {r.con_ver_us:>6.1f}µs {r.db_mib:>7.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="milestones, ascending")
    parser.add_argument("--batch", type=int, default=1000, help="entries per bulk transaction")
    parser.add_argument("--single", type=int, default=1000, help="one-tx appends per milestone")
    parser.add_argument("--proofs", type=int, default=200, help="proofs of each kind per size")
    parser.add_argument("--budget", type=float, default=720.0, help="seconds for the whole run")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    rng = random.Random(7)
    started = time.perf_counter()

    base = baseline_us(20_000)
    print(f"baseline InMemoryTree.append (same entries): {base:.1f} µs/entry")

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        db = Database.connect(f"sqlite:///{directory / 'bench.db'}")
        db.migrate()
        log = open_log(directory, db, remote="", in_process=3)
        rows: list[Row] = []
        n = 0
        stopped_at: int | None = None
        for target in sizes:
            times = singles(log, n, args.single)
            n += args.single
            # bulk in slices so that the budget is checked as we go
            seg_start, seg_time = n, 0.0
            slice_size = max(args.batch, 50_000)
            while n < target:
                end = min(n + slice_size, target)
                seg_time += bulk(log, n, end, args.batch)
                n = end
                if time.perf_counter() - started > args.budget and n < target:
                    stopped_at = target
                    break
            bulk_us = seg_time / max(n - seg_start, 1) * US
            m = measure(log, n, args.proofs, rng)
            fold_wal(directory / "bench.db")
            times.sort()
            rows.append(
                Row(
                    size=n,
                    bulk_us=bulk_us,
                    single_p50_ms=statistics.median(times) * 1e3,
                    single_p99_ms=times[int(len(times) * 0.99) - 1] * 1e3,
                    db_mib=db_bytes(directory) / 2**20,
                    **m,
                )
            )
            print_table(rows[-1:])
            if stopped_at is not None:
                break
        db.dispose()

    elapsed = time.perf_counter() - started
    print()
    print(f"SQL TransparencyLog on SQLite (WAL, synchronous=NORMAL), {elapsed:.0f} s total;")
    print(f"  single = log.append, its own transaction ({args.single} per size, p50/p99);")
    print(f"  bulk = append_in in {args.batch}-entry transactions; proofs: {args.proofs} each,")
    print("  generation from the DB (one read transaction per proof), verified against the")
    print("  checkpoint root; checkpoint = sign + 3 in-process witnesses cosign + store.")
    print_table(rows)
    last = rows[-1]
    print(f"bulk append vs in-memory tree: {last.bulk_us / base:.0f}x ({base:.1f} µs baseline)")
    print(f"DB bytes per entry at {last.size:,}: {last.db_mib * 2**20 / last.size:.0f}")
    if stopped_at is not None:
        rest = stopped_at - last.size
        est = rest * last.bulk_us / US
        print(
            f"EXTRAPOLATED (not measured): budget ran out at {last.size:,}; reaching "
            f"{stopped_at:,} at the last bulk rate would take about {est:.0f} s more, "
            f"and the DB would be about {last.db_mib * stopped_at / last.size:.0f} MiB."
        )


if __name__ == "__main__":
    main()
