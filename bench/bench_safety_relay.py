"""Added latency per send at the platform: the relay's real send path (``accept_envelope`` in a
write transaction on SQLite) with and without the minor-protection hook, in the same process.

Prints per-send times and the ratio (with rules) / (without rules); target <= 1.1x. Also the
batch path (``accept_batch_native``, ``BENCH_BATCH`` envelopes of one sender per transaction, as
``POST /v1/messages:batch`` runs it): time per message with and without the hook, and its ratio.
Run: ``python bench/bench_safety_relay.py``.
"""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from fulcrum.encoding import b64e
from fulcrum.server.hooks import HookChain
from fulcrum.server.relay.batch import accept_batch_native
from fulcrum.server.relay.common import now_ms
from fulcrum.server.safety.hooks import SafetySendHook
from fulcrum.server.safety.service import SafetyService
from fulcrum.server.sending import accept_envelope
from fulcrum.store import AccountDirectory, Database, DeviceRecord
from fulcrum.wire.api import EnvelopeIn, RatchetCiphertext

N = int(os.environ.get("BENCH_SENDS", "2000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
BATCH = int(os.environ.get("BENCH_BATCH", "50"))


def setup(db: Database, pairs: int) -> list[tuple[DeviceRecord, str, str]]:
    out = []
    with db.write() as session:
        accounts = AccountDirectory(session)
        for i in range(pairs):
            for name, year in ((f"a{i}", 1980), (f"b{i}", 1985)):
                accounts.create(name, birth_year=year, country="GB", created_at=0)
            dev_a = accounts.add_device(
                device_id=f"dev-a{i}",
                account=f"a{i}",
                identity_key="x",
                signing_key="y",
                token_hash=f"ta{i}",
                created_at=0,
            )
            accounts.add_device(
                device_id=f"dev-b{i}",
                account=f"b{i}",
                identity_key="x",
                signing_key="y",
                token_hash=f"tb{i}",
                created_at=0,
            )
            out.append((dev_a, f"b{i}", f"dev-b{i}"))
    return out


def envelope(sender: str, peer: str, device: str) -> EnvelopeIn:
    a, b = sorted((sender, peer))
    return EnvelopeIn(
        msg_id=secrets.token_urlsafe(16),
        conv=f"dm:{a}:{b}",
        recipients=[
            RatchetCiphertext(
                account=peer, device_id=device, type=1, body=b64e(secrets.token_bytes(200))
            )
        ],
    )


def run(db: Database, hooks: HookChain, senders: list[tuple[DeviceRecord, str, str]]) -> float:
    times = []
    for i in range(N):
        dev, peer, peer_dev = senders[i % len(senders)]
        env = envelope(dev.account, peer, peer_dev)
        t0 = time.perf_counter()
        with db.write() as session:
            accept_envelope(session, env, dev, hooks, now_ms)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_batches(
    db: Database, hooks: HookChain, senders: list[tuple[DeviceRecord, str, str]]
) -> float:
    """Median time per message of batches of ``BATCH`` envelopes from one sender to its peer."""
    times = []
    for i in range(max(N // BATCH, 1)):
        dev, peer, peer_dev = senders[i % len(senders)]
        envs = [envelope(dev.account, peer, peer_dev) for _ in range(BATCH)]
        t0 = time.perf_counter()
        with db.write() as session:
            accept_batch_native(session, envs, dev, hooks, now_ms)
        times.append((time.perf_counter() - t0) / BATCH)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.connect(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.migrate()
        senders = setup(db, 50)
        plain = HookChain.empty()
        service = SafetyService()
        rules = HookChain(send=[SafetySendHook(service)], delivery=[])
        uncached_service = SafetyService()
        uncached_service.accounts = None  # every send reads both accounts from the database
        uncached = HookChain(send=[SafetySendHook(uncached_service)], delivery=[])
        run(db, plain, senders)  # warm up
        base, with_rules, without_cache = [], [], []
        for _ in range(ROUNDS):  # interleave to share drift
            base.append(run(db, plain, senders))
            with_rules.append(run(db, rules, senders))
            without_cache.append(run(db, uncached, senders))
        b, r, u = min(base), min(with_rules), min(without_cache)
        print(f"sends per run: {N} x {ROUNDS} rounds (adult-to-adult 1:1, SQLite WAL, median)")
        print(f"send path without rules:              {b * 1e6:8.1f} us")
        print(f"send path with rules:                 {r * 1e6:8.1f} us")
        print(f"send path with rules, no account cache: {u * 1e6:6.1f} us")
        print(f"ratio: {r / b:.3f}x (target <= 1.1x); without the account cache {u / b:.3f}x")
        batch_base, batch_rules = [], []
        for _ in range(ROUNDS):
            batch_base.append(run_batches(db, plain, senders))
            batch_rules.append(run_batches(db, rules, senders))
        bb, br = min(batch_base), min(batch_rules)
        label = f"batch path ({BATCH} per transaction), per message,"
        print(f"{label} without rules: {bb * 1e6:7.1f} us")
        print(f"{label} with rules:    {br * 1e6:7.1f} us")
        print(f"batch ratio: {br / bb:.3f}x")
        db.dispose()


if __name__ == "__main__":
    main()
