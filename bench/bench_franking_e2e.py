"""Franking's share of a real send, end to end, as a ratio to the same path without franking.

Two loopback servers in this process, identical but for the franking feature (relay tag hook), and
two pairs of SDK clients, identical but for the franking send/receive layers. Each round: alice
sends a 200-byte text to bob (content-key layer, Olm, escrow field, HTTP, relay with every other
hook, SQLite), bob syncs (fetch, decrypt, verify, ack). Rounds alternate between the two setups so
load on the machine hits both alike; the median per-message time of each is reported.
Issue 3's target: franking (commit + tag + verify) <= 1.2x the plain send path.

    python bench/bench_franking_e2e.py [--n 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from fulcrum.client.franking_layer import NAME as FRANKING
from fulcrum.client.sdk import FulcrumClient
from fulcrum.client.standard import LayerSet, standard_layers
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.server import features

PASS = "bench passphrase"


def server(franking: bool, root: Path) -> EmbeddedServer:
    from fulcrum.server.franking import install as install_franking

    saved = list(features.INSTALLERS)
    if not franking:
        features.INSTALLERS[:] = [i for i in saved if i is not install_franking]
    try:
        return EmbeddedServer(root / ("with" if franking else "without")).start()
    finally:
        features.INSTALLERS[:] = saved


def without_franking(layers: LayerSet) -> LayerSet:
    keep = [p for p in layers.preparers if getattr(p, "name", "") != FRANKING]
    return LayerSet(
        keep,
        [layer for layer in layers.send if layer.name != FRANKING],
        [layer for layer in layers.receive if layer.name != FRANKING],
    )


async def pair(
    srv: EmbeddedServer, root: Path, franking: bool
) -> tuple[FulcrumClient, FulcrumClient]:
    tag = "f" if franking else "p"
    clients = []
    for name in ("alice", "bob"):
        c = await FulcrumClient.register(
            root / f"{tag}-{name}", srv.url, name, PASS, birth_year=1990, log2_n=10
        )
        if not franking:
            c.use_layers(without_franking(standard_layers()))
        clients.append(c)
    return clients[0], clients[1]


async def rounds(alice: FulcrumClient, bob: FulcrumClient, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        await alice.send_text("bob", "x" * 200)
        got = await bob.sync()
        assert len(got) == 1, got
    return (time.perf_counter() - t0) / n


async def main(n: int, repeats: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="fulcrum-bench-franking-"))
    with_f, without_f = server(True, root), server(False, root)
    fa, fb = await pair(with_f, root, True)
    pa, pb = await pair(without_f, root, False)
    await rounds(fa, fb, 5)  # sessions, epoch keys, warm caches
    await rounds(pa, pb, 5)
    franked, plain = [], []
    for _ in range(repeats):
        plain.append(await rounds(pa, pb, n))
        franked.append(await rounds(fa, fb, n))
    p, f = statistics.median(plain), statistics.median(franked)
    print(f"plain send path (no franking), per message: {p * 1e3:7.2f} ms")
    print(f"with franking (commit + tag + verify)      : {f * 1e3:7.2f} ms")
    print(f"ratio                                      : {f / p:7.2f}x  (target <= 1.2x)")
    print("path: compose (content key, Olm, escrow field) -> HTTP -> relay with all other hooks ->")
    print(
        "      SQLite -> fetch -> decrypt -> verify -> ack; client and servers share this process"
    )
    for c in (fa, fb, pa, pb):
        await c.close()
    with_f.stop()
    without_f.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    asyncio.run(main(args.n, args.rounds))
