"""Franking cost per message on the real client send path, and report verification time.

Run: python bench/bench_franking.py

Baseline (same process, interleaved): ``fulcrum.client.core.ClientCore`` compose_direct + open +
accept of one 200-byte text between two cores with an established Olm session and NO layers
installed. Franked: the same with the franking layer (commit on send, verify + keep the bundle on
receive) plus the relay's part (build the ServerEnvelope and tag commitment + env under the
monthly key, as ``server/franking/hook.py`` does). Target: franked / plain <= 1.2x.

Also printed: the isolated franking primitives (commit + tag + parse meta + verify_received) and,
for a report of 1 chosen + 5 context messages, verify_report, attest_report and strict parsing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench_client_path import introduce

from fulcrum.client.core import ClientCore, Opened, ReceivedMessage
from fulcrum.client.franking_layer import add_franking
from fulcrum.client.standard import LayerSet
from fulcrum.e2ee import DeviceAccount, OlmSessions, RatchetPayload
from fulcrum.e2ee.content import new_content_key, open_body, seal_body
from fulcrum.e2ee.payload import MessageHeader
from fulcrum.encoding import b64d, b64e
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
from fulcrum.wire.api import EnvelopeIn, FrankingTag, QueueItem
from fulcrum.wire.reports import FRANKING_ENV_KEY

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


def client_core(name: str, franked: bool) -> ClientCore:
    device = DeviceAccount()
    layers = LayerSet()
    if franked:
        add_franking(layers)
    return ClientCore(
        name,
        f"{name.upper()}DEV",
        device,
        OlmSessions(device),
        send_layers=layers.send,
        receive_layers=layers.receive,
    )


class CorePair:
    """Two ClientCores with an Olm session both ways; ``round`` is one send path."""

    def __init__(self, franked: bool) -> None:
        self.franked = franked
        self.alice, self.bob = client_core("alice", franked), client_core("bob", franked)
        introduce(self.alice, self.bob)
        self.round()  # establish the session both ways

    def relay(self, env: EnvelopeIn, now: float) -> tuple[dict[str, object], FrankingTag | None]:
        """The relay's franking work on accept: the server envelope and its tag."""
        if not self.franked:
            return {}, None
        server_env = ServerEnvelope(
            sender="alice",
            sender_device=self.alice.device_id,
            conv=env.conv,
            msg_id=b64d(env.msg_id, length=16),
            server_ts=int(now * 1000),
            ct_sha256=sha256(b64d(env.body)),
            recipients=("bob",),
        )
        kid, value = tag(RING, b64d(env.commitment or ""), server_env, NOW)
        return {FRANKING_ENV_KEY: server_env.to_json()}, FrankingTag(kid=kid, tag=b64e(value))

    def round(self) -> None:
        now = NOW.timestamp()
        env = self.alice.compose_direct("bob", BODY, now)
        envelope, franking = self.relay(env, now)
        item = QueueItem(
            seq=1,
            kind="message",
            msg_id=env.msg_id,
            conv=env.conv,
            sender="alice",
            sender_device=self.alice.device_id,
            server_ts=int(now * 1000),
            content_type=env.content_type,
            body=env.body,
            ratchet=env.recipients[0],
            commitment=env.commitment,
            escrow=env.escrow,
            envelope=envelope,
            extensions=env.extensions,
            franking=franking,
        )
        opened = self.bob.open(item)
        assert isinstance(opened, Opened)
        outcome = self.bob.accept(opened, {}, now)
        assert isinstance(outcome, ReceivedMessage), outcome

    def reset(self) -> None:
        for core in (self.alice, self.bob):
            core.history.clear()
            core.seen.clear()


def client_path(number: int, repeats: int) -> tuple[float, float]:
    plain, franked = CorePair(False), CorePair(True)
    plain_runs, franked_runs = [], []
    for _ in range(repeats):
        for pair, runs in ((plain, plain_runs), (franked, franked_runs)):
            runs.append(per_call_us(pair.round, number=number, repeat=1))
            pair.reset()
    return statistics.median(plain_runs), statistics.median(franked_runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    plain_us, franked_us = client_path(args.n, args.repeats)
    print("Send path per 200-byte message: ClientCore compose + open + accept (this machine)")
    print(f"  plain (no layers)                               {plain_us:8.1f} us")
    print(f"  franked (franking layer + relay env and tag)    {franked_us:8.1f} us")
    print(
        f"  franking cost {franked_us - plain_us:6.1f} us; franked / plain = "
        f"{franked_us / plain_us:5.2f} x   (target <= 1.2x)"
    )

    assert franking_path()
    # Isolated primitives. Interleave the two measurements so drift affects both alike.
    olm = OlmPair()
    plain, full, frank = [], [], []
    for _ in range(5):
        plain.append(per_call_us(plain_send, repeat=3))
        full.append(per_call_us(olm.send, number=1000, repeat=3))
        frank.append(per_call_us(franking_path, repeat=3))
    plain_us, full_us = statistics.median(plain), statistics.median(full)
    frank_us = statistics.median(frank)
    print("Isolated franking primitives per message (median of medians)")
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
