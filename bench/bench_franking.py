"""Franking cost per message vs the plain content-key send path, and report verification time.

Run: python bench/bench_franking.py

Baseline (measured in this process): the content-key layer of fulcrum.e2ee for one 200-byte text
message: fresh 32-byte K_m, canonical header encoding (MessageHeader.canonical), AES-256-GCM seal
and open of the body. It leaves out the ratchet (Olm/Megolm, ~23-50 us per message in facts.md),
networking and storage, so the ratio printed here is an upper bound on franking's relative cost in
a real send. Franking per message = sender (build FrankingMeta, new k_f, commit) + relay (build
ServerEnvelope, tag) + recipient (parse its own FrankingMeta from the payload dict,
verify_received). The baseline does not parse the header on receive; the franking side does.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from fulcrum.e2ee import DeviceAccount, OlmSessions, RatchetPayload
from fulcrum.e2ee.content import new_content_key, open_body, seal_body
from fulcrum.e2ee.payload import MessageHeader
from fulcrum.franking import (
    GENESIS_PREV,
    AbuseReport,
    FrankingBundle,
    FrankingMeta,
    ReasonCode,
    ReportedMessage,
    ServerEnvelope,
    TagKeyring,
    attest_report,
    commit,
    new_franking_key,
    tag,
    verify_received,
    verify_report,
)
from fulcrum.hazmat.signing import SigningKey
from fulcrum.hazmat.symmetric import sha256

NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
BODY = os.urandom(200)
RING, _ = TagKeyring().advance(NOW)


def per_call_us(fn: Callable[[], object], number: int = 2000, repeat: int = 7) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(runs)


def plain_send() -> bytes:
    msg_id = os.urandom(16).hex()
    header = MessageHeader(
        conv="dm:alice:bob",
        sender="alice",
        sender_device="alice-phone",
        recipients=("bob/bob-laptop",),
        msg_id=msg_id,
        client_ts=NOW_MS,
        content_type="text/plain",
    ).canonical()
    k_m = new_content_key()
    sealed = seal_body(k_m, header, BODY)
    return open_body(k_m, header, sealed)


class OlmPair:
    """Alice and Bob with an established Olm session (vodozemac), for the fuller baseline."""

    def __init__(self) -> None:
        a, b = DeviceAccount(), DeviceAccount()
        self.sa, self.sb = OlmSessions(a), OlmSessions(b)
        self.ka, self.kb = a.identity_key, b.identity_key
        self.sa.start(self.kb, next(iter(b.new_one_time_keys(1).values())))
        self.sb.decrypt(self.ka, self.sa.encrypt(self.kb, b"hello"))
        self.sa.decrypt(self.kb, self.sb.encrypt(self.ka, b"hello back"))

    def send(self) -> bytes:
        """Content-key layer + ratchet payload + Olm encrypt/decrypt + payload parse + open."""
        header = MessageHeader(
            conv="dm:alice:bob",
            sender="alice",
            sender_device="alice-phone",
            recipients=("bob/bob-laptop",),
            msg_id=os.urandom(16).hex(),
            client_ts=NOW_MS,
            content_type="text/plain",
        )
        k_m = new_content_key()
        sealed = seal_body(k_m, header.canonical(), BODY)
        ct = self.sa.encrypt(self.kb, RatchetPayload(header, k_m).encode())
        opened = RatchetPayload.decode(self.sb.decrypt(self.ka, ct))
        return open_body(opened.k_m, opened.header.canonical(), sealed)


def franking_path() -> bool:
    msg_id = os.urandom(16)
    meta = FrankingMeta(
        sender="alice",
        sender_device="alice-phone",
        conv="dm:alice:bob",
        msg_id=msg_id,
        client_ts=NOW_MS,
        content_type="text/plain",
        prev=GENESIS_PREV,
    )
    k_f = new_franking_key()
    c = commit(k_f, meta, BODY)
    env = ServerEnvelope(
        sender="alice",
        sender_device="alice-phone",
        conv="dm:alice:bob",
        msg_id=msg_id,
        server_ts=NOW_MS + 5,
        ct_sha256=sha256(BODY),
        recipients=("bob",),
    )
    tag(RING, c, env, NOW)
    # The recipient has its own copy of meta, parsed from the ratchet payload (no shared caches).
    received = FrankingMeta.from_json(meta.to_json())
    return verify_received(BODY, received, k_f, c, env, GENESIS_PREV).displayable


def make_report(n_context: int = 5) -> AbuseReport:
    chains: dict[str, bytes] = {}
    messages = []
    for i in range(n_context + 1):
        sender = "alice" if i % 2 == 0 else "bob"
        meta = FrankingMeta(
            sender=sender,
            sender_device=f"{sender}-phone",
            conv="dm:alice:bob",
            msg_id=os.urandom(16),
            client_ts=NOW_MS + i,
            content_type="text/plain",
            prev=chains.get(sender, GENESIS_PREV),
        )
        k_f = new_franking_key()
        c = commit(k_f, meta, BODY)
        env = ServerEnvelope(
            sender=sender,
            sender_device=f"{sender}-phone",
            conv="dm:alice:bob",
            msg_id=meta.msg_id,
            server_ts=NOW_MS + 1000 * i,
            ct_sha256=sha256(BODY),
            recipients=("bob" if sender == "alice" else "alice",),
        )
        kid, t = tag(RING, c, env, NOW)
        chains[sender] = c
        messages.append(ReportedMessage(FrankingBundle(BODY, meta, k_f, c, env, kid, t)))
    chosen = (
        messages[-1].bundle if messages[-1].bundle.env.sender == "alice" else messages[-2].bundle
    )
    return AbuseReport(
        "bench",
        "bob",
        "bob-laptop",
        ReasonCode.HARASSMENT,
        False,
        (chosen.msg_id,),
        tuple(messages),
    )


def main() -> None:
    assert franking_path()
    # Interleave the two measurements so drift affects both alike.
    olm = OlmPair()
    plain, full, frank = [], [], []
    for _ in range(5):
        plain.append(per_call_us(plain_send, repeat=3))
        full.append(per_call_us(olm.send, number=1000, repeat=3))
        frank.append(per_call_us(franking_path, repeat=3))
    plain_us, full_us = statistics.median(plain), statistics.median(full)
    frank_us = statistics.median(frank)
    print("Franking cost per 200-byte message (median of medians, this machine)")
    print(f"  A baseline: content key + header + AES-GCM seal/open  {plain_us:8.1f} us")
    print(f"  B baseline: A + ratchet payload + Olm enc/dec + parse {full_us:8.1f} us")
    print(f"  franking: commit + tag + parse meta + verify_received {frank_us:8.1f} us")
    print(
        f"  franking / A = {frank_us / plain_us:5.2f} x   (A + franking) / A = "
        f"{1 + frank_us / plain_us:5.2f} x"
    )
    print(
        f"  franking / B = {frank_us / full_us:5.2f} x   (B + franking) / B = "
        f"{1 + frank_us / full_us:5.2f} x   (target <= 1.2x)"
    )

    report = make_report(5)
    key = SigningKey.generate()
    verdict = verify_report(report, RING, NOW)
    assert verdict.verified
    verify_us = per_call_us(lambda: verify_report(report, RING, NOW), number=300)
    attest_us = per_call_us(lambda: attest_report(report, verdict, key, NOW), number=300)
    parse_us = per_call_us(lambda: AbuseReport.parse(report.encode()), number=300)
    print("Report with 1 chosen + 5 context messages")
    print(f"  verify_report          {verify_us:8.1f} us")
    print(f"  attest_report (Ed25519) {attest_us:7.1f} us")
    print(f"  encode + strict parse  {parse_us:8.1f} us")


if __name__ == "__main__":
    main()
