"""The DKG among separate trustee processes vs. the in-process DKG, measured in the same run.

Five trustee apps (``fulcrum trustee serve``'s app, each with its own key store) are reached over
``httpx.ASGITransport`` in this process, so the figure is the protocol's own cost (five rounds of
JSON, Ed25519 signatures on every message, X25519 sealing of every share, the key store's file
writes and fsyncs) without network latency; over a real network add about five round trips.
Baseline: ``run_dkg(5, 3)`` (every trustee in one process, no signatures, no sealing).

Run: python bench/bench_remote_dkg.py [--rounds N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx

from fulcrum.access import LogTrust
from fulcrum.escrow import run_dkg
from fulcrum.hazmat.signing import SigningKey
from fulcrum.server.escrow import DkgCoordinator, DkgPeer, TrusteeRoster
from fulcrum.server.escrow.keystore import TrusteeKeyStore
from fulcrum.translog import CosignatureSigner, NoteSigner
from fulcrum.trustee import PlatformLog, create_trustee_app, token_hash

TOKEN = "bench-token"


def coordinator(root: Path) -> DkgCoordinator:
    key = SigningKey.generate()
    witness = CosignatureSigner("w.example", SigningKey.generate()).verifier()
    trust = LogTrust(NoteSigner("x", key).verifier(), (witness,), 1)
    log = PlatformLog("http://127.0.0.1:9", trust)  # the DKG never reads the log
    peers = []
    for i in range(1, 6):
        store = TrusteeKeyStore(root / f"trustee-{i}", f"trustee-{i}")
        app = create_trustee_app(store, log, token_hash(TOKEN))
        transport = httpx.ASGITransport(app=app)
        peers.append(DkgPeer(i, store.name, f"http://trustee-{i}", TOKEN, transport))
    return DkgCoordinator(peers, 3, TrusteeRoster(root / "roster.json"))


def main() -> None:
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 10
    with tempfile.TemporaryDirectory() as tmp:
        coord = coordinator(Path(tmp))
        coord.run(0, 0, 1000)  # warm-up (and enrolment)
        best_local, best_remote = float("inf"), float("inf")
        for epoch in range(1, rounds + 1):  # interleaved: both see the same load
            start = time.perf_counter()
            run_dkg(5, 3, epoch)
            best_local = min(best_local, time.perf_counter() - start)
            start = time.perf_counter()
            coord.run(epoch, 0, 1000)
            best_remote = min(best_remote, time.perf_counter() - start)
    print(f"DKG n=5 t=3, best of {rounds}")
    print(f"  in-process run_dkg                       {best_local * 1e3:8.1f} ms  (baseline)")
    print(f"  5 trustee apps via the coordinator (ASGI) {best_remote * 1e3:8.1f} ms  "
          f"({best_remote / best_local:.1f}x baseline)")  # fmt: skip


if __name__ == "__main__":
    main()
