"""Lawful access throughput for one warrant over N messages (default 10,000), t = 3 of n = 5, and
evidence bundle export time.

Per message: the trustees' checks (log inclusion under a cosigned checkpoint once per request,
per item: recipient-device hash, scope, Schnorr proof), their DLEQ-proven partials, the requester's
proof checks, Lagrange combine, escrow field opening and the AES-GCM body (fulcrum.e2ee.open_body).
The warrant is split into requests of CHUNK items (each its own logged DecryptionRequested), which
is also how the work spreads over processes (one request per pool task, so both processes stay
busy until the last request). Baselines measured in the same run: open_body alone, and the
cryptographic floor: the libsodium operations one message needs at the costs measured here
(each trustee: Schnorr check 1 base + 1 variable-base multiplication + 1 subtraction, D_ij 1
multiplication, its share of the batch composite 1 multiplication + 1 addition; the requester, per
trustee: the two composites M_j and Z_j 2 multiplications + 2 additions, then the Lagrange combine,
which for trustees 1, 2, 3 (lambda = 3, -3, 1) is S = 3·(D_1 - D_2) + D_3: 1 multiplication + 2
additions). CPU figures are process time on one core, so they move less
than wall-clock rates when other work shares the machine.

Run: python bench/bench_warrant.py [--quick]
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fulcrum.access import (
    DecryptionRequest,
    JudgeKey,
    LoggedRequest,
    LogTrust,
    RequestItem,
    Warrant,
    WarrantOpening,
    answer_request,
    open_request,
    sign_warrant,
    warrant_id_for,
)
from fulcrum.e2ee.content import open_body, seal_body
from fulcrum.escrow import (
    EpochKeyBundle,
    EscrowContext,
    TrusteePartial,
    TrusteeShare,
    create_escrow_field,
    run_dkg,
)
from fulcrum.evidence import (
    EvidenceCase,
    EvidenceMessage,
    EvidenceProvenance,
    write_bundle,
)
from fulcrum.hazmat.ristretto import Point, base_mul, random_scalar
from fulcrum.hazmat.signing import SigningKey
from fulcrum.translog import (
    Checkpoint,
    CosignatureSigner,
    InMemoryTree,
    LogEntry,
    NoteSigner,
    TrusteeApproval,
    Witness,
    WitnessState,
    add_signatures,
    sign_checkpoint,
)

QUICK = "--quick" in sys.argv
N = 1_000 if QUICK else 10_000
CHUNK = 500
T0 = 1_767_225_600
DAY = 86_400
Chunk = list[tuple[RequestItem, bytes, bytes]]


@dataclass
class World:
    y: Point
    bundle: EpochKeyBundle | None = None
    shares: dict[int, TrusteeShare] = field(default_factory=dict)
    opening: WarrantOpening | None = None
    chunks: list[Chunk] = field(default_factory=list)
    requests: list[DecryptionRequest] = field(default_factory=list)
    logged: list[LoggedRequest] = field(default_factory=list)
    entries: list[LogEntry] = field(default_factory=list)
    trust: LogTrust | None = None


W = World(y=Point.generator())


def _message(i: int, y: Point) -> tuple[RequestItem, bytes, bytes]:
    sender, other = ("alice", "bob") if i % 2 else ("bob", "alice")
    devices = [(other, f"{other}-phone"), (other, f"{other}-laptop")]
    ctx = EscrowContext.for_message(
        epoch=7, conv="dm:alice:bob", msg_id=f"m{i:08d}", sender=sender,
        sender_device=f"{sender}-phone", recipient_devices=devices,
        client_ts=(T0 + (i * 20 * DAY) // N) * 1000,
    )  # fmt: skip
    k_m = hashlib.sha256(b"k" + i.to_bytes(4, "big")).digest()
    ef = create_escrow_field(k_m, ctx, y)
    sealed = seal_body(k_m, ctx.to_bytes(), f"message {i} ".encode() * 8)
    return RequestItem.create(ef, ctx, devices), k_m, sealed


def _make_chunk(start: int) -> list[tuple[bytes, bytes, list[tuple[str, str]], bytes, bytes]]:
    """Plain bytes only: points do not pickle across processes."""
    out = []
    for i in range(start, min(start + CHUNK, N)):
        item, k_m, sealed = _message(i, W.y)
        devices = [tuple(d) for d in item.recipient_devices]
        out.append((item.field.to_bytes(), item.ctx.to_bytes(), devices, k_m, sealed))
    return out  # type: ignore[return-value]


def setup() -> None:
    dkg = run_dkg(5, 3, 7)
    bundle = EpochKeyBundle.from_dkg(dkg[0], valid_from=0, valid_until=2**52)
    W.y, W.bundle = bundle.group_key, bundle
    with mp.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        raw_chunks = pool.map(_make_chunk, range(0, N, CHUNK))
    chunks = [
        [(RequestItem.create(f, EscrowContext.from_bytes(c), d), k, b) for f, c, d, k, b in chunk]
        for chunk in raw_chunks
    ]
    judge = SigningKey(hashlib.sha256(b"judge").digest())
    jk = JudgeKey("judge-1", "Court", judge.public_key(), T0 - DAY, T0 + 999 * DAY)
    warrant = Warrant.create(
        warrant_id=warrant_id_for("XA", "police-a", "b-1"), agency="police-a", jurisdiction="XA",
        legal_basis="s. 100a", targets=["alice"], window_start=T0, window_end=T0 + 20 * DAY,
        issued_at=T0, judge_key_id="judge-1", max_messages=N,
    )  # fmt: skip
    opening = WarrantOpening.create(sign_warrant(warrant, judge))
    log_signer = NoteSigner.generate("log.bench")
    witnesses = [CosignatureSigner.generate(f"w{i}.bench") for i in (1, 2)]
    tree = InMemoryTree()
    entries: list[LogEntry] = [jk.to_log_entry(T0 - DAY)]
    entries.append(opening.registration_entry(time=T0, approvals_required=3))
    entries += [
        TrusteeApproval(time=T0, warrant_id=warrant.warrant_id, trustee_id=f"t{i}",
                        approved=True, reasons=(), approval_digest=bytes(32))
        for i in (1, 2, 3)
    ]  # fmt: skip
    requests = []
    for n, chunk in enumerate(chunks):
        req = DecryptionRequest(warrant.warrant_id, f"r{n}", 7, tuple(c[0] for c in chunk))
        requests.append(req)
        entries.append(req.to_log_entry(T0 + 21 * DAY))
    raw = [e.encode() for e in entries]
    for r in raw:
        tree.append(r)
    note = sign_checkpoint(Checkpoint(log_signer.name, tree.size(), tree.root_hash()), log_signer)
    sigs = [Witness(w, [log_signer.verifier()]).cosign(WitnessState(), note, [], T0).signature
            for w in witnesses]  # fmt: skip
    note = add_signatures(note, sigs)
    logged = [LoggedRequest(raw[i + 5], i + 5, tuple(tree.inclusion_proof(i + 5)), note)
              for i in range(len(requests))]  # fmt: skip
    W.shares = {r.share.index: r.share for r in dkg}
    W.opening, W.chunks, W.requests, W.logged, W.entries = (
        opening,
        chunks,
        requests,
        logged,
        entries,
    )
    W.trust = LogTrust(log_signer.verifier(), tuple(w.verifier() for w in witnesses), 2)


def trustee(n: int, index: int) -> bytes:
    """Trustee ``index`` answers request ``n``: every check, then partials. Returns them."""
    assert W.opening is not None
    assert W.trust is not None
    partial = answer_request(W.requests[n], W.opening, W.logged[n], W.trust, W.shares[index], W.y,
                             log_entries=W.entries, now=T0 + 22 * DAY)  # fmt: skip
    return partial.to_bytes()


def requester(n: int, partials: list[bytes], optimistic: bool = False) -> int:
    """Verify the partials, combine, open every escrow field and decrypt every body."""
    assert W.bundle is not None
    parsed = [TrusteePartial.from_bytes(p) for p in partials]
    keys = open_request(W.requests[n], parsed, W.bundle, W.logged[n].binding, optimistic=optimistic)
    for k_m, (item, _, sealed) in zip(keys, W.chunks[n], strict=True):
        open_body(k_m, item.ctx.to_bytes(), sealed)
    return len(keys)


def whole_request(n: int) -> int:
    return requester(n, [trustee(n, i) for i in (1, 2, 3)])


def whole_request_optimistic(n: int) -> int:
    return requester(n, [trustee(n, i) for i in (1, 2, 3)], optimistic=True)


def requester_only(n: int) -> int:
    return requester(n, PARTIALS[n])


def requester_only_optimistic(n: int) -> int:
    return requester(n, PARTIALS[n], optimistic=True)


PARTIALS: dict[int, list[bytes]] = {}


POOL_CPU: list[float] = []  # workers' CPU seconds of each pooled run, in order


def _task(job: tuple[Callable[[int], int], int]) -> tuple[int, float]:
    fn, n = job
    start = time.process_time()
    return fn(n), time.process_time() - start


def pooled(fn: Callable[[int], int], n_req: int, workers: int) -> float:
    """Wall time of ``fn`` over every request, one request per task; the workers' CPU time is
    appended to ``POOL_CPU``."""
    start = time.perf_counter()
    with mp.get_context("fork").Pool(workers) as pool:
        done = list(pool.imap_unordered(_task, [(fn, n) for n in range(n_req)], chunksize=1))
    assert sum(c for c, _ in done) == N
    POOL_CPU.append(sum(t for _, t in done))
    return time.perf_counter() - start


def timed(fn: Callable[[int], int], n_req: int) -> float:
    start = time.perf_counter()
    assert sum(fn(n) for n in range(n_req)) == N
    return time.perf_counter() - start


def cpu_per_message(fn: Callable[[], object], count: int) -> float:
    """Process CPU time of ``fn()`` in microseconds per message (``count`` messages)."""
    start = time.process_time()
    fn()
    return (time.process_time() - start) / count * 1e6


def crypto_floor() -> tuple[float, float, float, float, float]:
    """Costs of the libsodium operations here (us): variable-base mult, base mult, add; and the
    floor per message for one trustee and for the requester (see the module docstring)."""
    s, p, q = random_scalar(), base_mul(random_scalar()), base_mul(random_scalar())

    def cost(fn: Callable[[], object]) -> float:
        runs = timeit.repeat(fn, number=300, repeat=5, timer=time.process_time)
        return min(runs) / 300 * 1e6

    mul, base, add = cost(lambda: p.mul(s)), cost(lambda: base_mul(s)), cost(lambda: p + q)
    trustee_floor = 3 * mul + base + 2 * add
    requester_floor = 7 * mul + 8 * add  # 6 for the composites, 1 for the combine
    return mul, base, add, trustee_floor, requester_floor


def main() -> None:
    print(f"warrant over {N} messages, t=3 of n=5, requests of {CHUNK}, cpus={os.cpu_count()}")
    start = time.perf_counter()
    setup()
    print(f"setup (escrow fields, bodies, log): {time.perf_counter() - start:.1f} s")
    chunks = W.chunks
    n_req = len(chunks)
    workers = min(2, os.cpu_count() or 1)

    start = time.perf_counter()
    for chunk in chunks:
        for item, k_m, sealed in chunk:
            open_body(k_m, item.ctx.to_bytes(), sealed)
    base = time.perf_counter() - start

    mul, base_mult, add, trustee_floor, requester_floor = crypto_floor()
    start = time.perf_counter()
    cpu_trustee = cpu_per_message(
        lambda: PARTIALS.update({n: [trustee(n, i) for i in (1, 2, 3)] for n in range(n_req)}),
        3 * N,
    )
    t_trustee = (time.perf_counter() - start) / 3
    cpu_requester = cpu_per_message(lambda: timed(requester_only, n_req), N)
    t_req = timed(requester_only, n_req)
    t_req_opt = timed(requester_only_optimistic, n_req)
    t_req_par = pooled(requester_only, n_req, workers)
    t_req_opt_par = pooled(requester_only_optimistic, n_req, workers)
    t_all = pooled(whole_request, n_req, workers)
    t_all_opt = pooled(whole_request_optimistic, n_req, workers)

    def rate(t: float) -> str:
        return f"{N / t:8.0f} msg/s ({t:6.1f} s, {t / base:5.0f}x AES baseline)"

    print(f"baseline open_body alone (1 core):                 {N / base:8.0f} msg/s")
    print(f"one trustee: checks + partials (1 core):           {rate(t_trustee)}")
    print(f"requester: verify DLEQ, combine, open, AES (1 core): {rate(t_req)}")
    print(f"requester, optimistic (1 core):                    {rate(t_req_opt)}")
    print(f"requester ({workers} processes):                         {rate(t_req_par)}")
    print(f"requester, optimistic ({workers} processes):             {rate(t_req_opt_par)}")
    print(f"end to end, 3 trustees + requester ({workers} processes):  {rate(t_all)}")
    print(f"end to end, optimistic ({workers} processes):             {rate(t_all_opt)}")
    for label, wall, cpu in (
        ("end to end", t_all, POOL_CPU[-2]),
        ("end to end, optimistic", t_all_opt, POOL_CPU[-1]),
    ):
        print(f"  {label}: workers' CPU {cpu / N * 1e6:.0f} us/msg, they had "
              f"{cpu / wall:.2f} of {workers} cores -> {workers * N / cpu:.0f} msg/s "
              f"if {workers} cores were free")  # fmt: skip
    print(f"critical path, trustees on own machines, then combine (1 core each): "
          f"{N / (t_trustee + t_req):.0f} msg/s")  # fmt: skip
    floor = 3 * trustee_floor + requester_floor
    cpu_total = 3 * cpu_trustee + cpu_requester
    print(f"libsodium here: variable-base mult {mul:.1f} us, base mult {base_mult:.1f} us, "
          f"add {add:.1f} us")  # fmt: skip
    print(f"CPU per message: one trustee {cpu_trustee:.0f} us (floor {trustee_floor:.0f}), "
          f"requester {cpu_requester:.0f} us (floor {requester_floor:.0f}); t=3 total "
          f"{cpu_total:.0f} us = {cpu_total / floor:.2f}x the floor of {floor:.0f} us")  # fmt: skip
    print(f"  -> at most {2e6 / cpu_total:.0f} msg/s on 2 idle cores "
          f"(floor: {2e6 / floor:.0f} msg/s)")  # fmt: skip

    messages = [
        EvidenceMessage(
            msg_id=item.ctx.msg_id, conv=item.ctx.conv, target="alice", sender=item.ctx.sender,
            sender_device=item.ctx.sender_device, recipients=item.recipient_devices,
            server_ts=item.ctx.client_ts + 120, client_ts=item.ctx.client_ts,
            body=f"message {i}", escrow_field=item.field.to_bytes(), ctx=item.ctx.to_bytes(),
            envelope=sealed, franking_verdict="valid", request_id="r",
        )
        for i, (item, _, sealed) in enumerate(c for chunk in chunks for c in chunk)
    ]  # fmt: skip
    case = EvidenceCase("case-b", "XA:police-a:b-1", "police-a", "unit-7", "fulcrum", T0)
    prov = EvidenceProvenance(signed_warrant=b"{}")
    key = SigningKey(bytes(range(32)))
    with tempfile.TemporaryDirectory() as tmp:
        for pdf in (False, True):
            start = time.perf_counter()
            write_bundle(Path(tmp) / f"b{pdf}", case, messages, prov, key, actor="bench", pdf=pdf)
            label = "with PDF" if pdf else "no PDF  "
            print(f"bundle export, {N} messages, {label}:  {time.perf_counter() - start:8.2f} s")


if __name__ == "__main__":
    main()
