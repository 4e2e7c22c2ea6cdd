"""Minor-protection rules engine: throughput and added latency per send.

Run: python bench/bench_safety.py [--users N] [--messages N]

* Throughput: ``SafetyEngine.check_message`` (which also records the send) over a synthetic stream,
  in process, with the in-memory store: events per second.
* Added latency per send: the same stream through the baseline send path alone, then baseline plus
  ``check_message``; the ratio (baseline + rules) / baseline is the figure (target <= 1.1).
  Baseline = the e2ee content-key layer for a 200-byte body: canonical-JSON ``MessageHeader``
  (RFC 8785), a fresh content key, AES-256-GCM ``seal_body`` with the header as associated data.

The stream: households (2 adults + 1-3 minors, minors add their parents), school classes of minors
(connected among themselves), an adult friendship graph, 90% one-to-one sends between connections,
10% group sends, 10% media, 10% forwards, 1% attempts at unconnected minors, over one simulated day.
"""

from __future__ import annotations

import argparse
import random
import time

from fulcrum.e2ee import MessageHeader, seal_body
from fulcrum.e2ee.content import new_content_key
from fulcrum.safety import (
    AccountCreated,
    ContactAccepted,
    ContactRequested,
    MessageSent,
    SafetyEngine,
)

T0 = 1_748_865_600.0  # 2025-06-02 12:00 UTC
DAY = 86400.0
CHUNK = 500


def build_world(
    users: int, rng: random.Random
) -> tuple[SafetyEngine, dict[str, list[str]], list[str]]:
    engine = SafetyEngine()
    contacts: dict[str, list[str]] = {}
    minors: list[str] = []
    adults: list[str] = []

    def create(name: str, minor: bool) -> None:
        year = rng.choice([2008, 2010, 2012]) if minor else rng.randint(1960, 2000)
        engine.record(AccountCreated(name, T0 - 400 * DAY, year, "GB"))
        contacts[name] = []
        (minors if minor else adults).append(name)

    def connect(a: str, b: str, at: float) -> None:
        engine.record(ContactRequested(a, b, at))
        engine.record(ContactAccepted(b, a, at))
        contacts[a].append(b)
        contacts[b].append(a)

    i = 0
    while i < users * 0.6:
        parents = [f"u{i}", f"u{i + 1}"]
        for p in parents:
            create(p, False)
        connect(parents[0], parents[1], T0 - 300 * DAY)
        kids = [f"u{i + 2 + k}" for k in range(rng.randint(1, 3))]
        for kid in kids:
            create(kid, True)
            for p in parents:
                connect(kid, p, T0 - rng.uniform(1, 300) * DAY)
        i += 2 + len(kids)
    while i < users:  # adults without children at home: about 20% of accounts are minors
        create(f"u{i}", False)
        i += 1
    for c in range(0, len(minors), 25):  # classes
        klass = minors[c : c + 25]
        for kid in klass:
            for other in rng.sample(klass, min(6, len(klass))):
                if other != kid and other not in contacts[kid]:
                    connect(kid, other, T0 - rng.uniform(1, 200) * DAY)
    for a in adults:  # adult friendship graph
        for b in rng.sample(adults, 8):
            if b != a and b not in contacts[a]:
                connect(a, b, T0 - rng.uniform(1, 300) * DAY)
    return engine, contacts, minors


def build_stream(
    n: int, contacts: dict[str, list[str]], minors: list[str], rng: random.Random
) -> list[MessageSent]:
    people = list(contacts)
    stream = []
    for k in range(n):
        at = T0 + k * (DAY / n)
        sender = rng.choice(people)
        roll = rng.random()
        if roll < 0.01:
            stream.append(MessageSent(sender, (rng.choice(minors),), f"c{k}", at))
        elif roll < 0.11 and len(contacts[sender]) >= 2:
            members = tuple(rng.sample(contacts[sender], min(6, len(contacts[sender]))))
            stream.append(MessageSent(sender, members, f"g{sender}", at, is_group=True))
        else:
            to = rng.choice(contacts[sender])
            fwd = rng.random() < 0.1
            stream.append(
                MessageSent(
                    sender,
                    (to,),
                    f"{sender}>{to}",
                    at,
                    has_media=rng.random() < 0.1,
                    forward_count=rng.choice([1, 2, 6]) if fwd else 0,
                    forward_batch=f"b{k // 3}" if fwd else None,
                )
            )
    return stream


def baseline_send(ev: MessageSent, body: bytes) -> bytes:
    header = MessageHeader(
        conv=ev.conversation, sender=ev.sender, sender_device="d1",
        recipients=tuple(sorted(f"{r}/d1" for r in ev.recipients)), msg_id="m",
        client_ts=int(ev.at * 1000), content_type="text",
    )  # fmt: skip
    return seal_body(new_content_key(), header.canonical(), body)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--messages", type=int, default=200_000)
    args = ap.parse_args()
    rng = random.Random(7)
    t = time.perf_counter()
    engine, contacts, minors = build_world(args.users, rng)
    stream = build_stream(args.messages, contacts, minors, rng)
    setup = time.perf_counter() - t
    body = bytes(200)
    n = len(stream)
    check = engine.check_message
    clock = time.perf_counter
    # Alternate the two paths chunk by chunk over the same events, so both see the same machine
    # load; every event goes through the rules exactly once and in order.
    base = rules = 0.0
    decisions = 0
    for lo in range(0, n, CHUNK):
        chunk = stream[lo : lo + CHUNK]
        t = clock()
        for ev in chunk:
            baseline_send(ev, body)
        base += clock() - t
        t = clock()
        for ev in chunk:
            decisions += len(check(ev))
        rules += clock() - t

    # The same stream on a fresh engine in one uninterrupted loop (warm caches), for comparison.
    warm_engine = build_world(args.users, random.Random(7))[0]
    t = clock()
    for ev in stream:
        baseline_send(ev, body)
    warm_base = clock() - t
    warm_check = warm_engine.check_message
    t = clock()
    for ev in stream:
        warm_check(ev)
    warm_rules = clock() - t

    print(f"world: {len(contacts)} accounts ({len(minors)} minors), {n} sends, setup {setup:.1f} s")
    print(f"rules engine throughput: {n / rules:,.0f} sends/s ({rules / n * 1e6:.2f} us per send)")
    print(f"decisions returned: {decisions} ({decisions / n:.3%} of sends)")
    print(f"baseline send path: {base / n * 1e6:.2f} us per send")
    print(
        f"added latency per send, interleaved in chunks of {CHUNK}: "
        f"{(base + rules) / base:.3f}x baseline (target <= 1.1x)"
    )
    print(
        f"added latency per send, separate warm loops: {(warm_base + warm_rules) / warm_base:.3f}x "
        f"({warm_rules / n * 1e6:.2f} us rules vs {warm_base / n * 1e6:.2f} us baseline)"
    )
    stats = engine.rule_stats(T0, T0 + DAY).to_json()["counts"]
    print(f"rule stats over the day: {stats}")


if __name__ == "__main__":
    main()
