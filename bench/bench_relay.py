"""Relay throughput: messages accepted + delivered + acked per second, end to end over HTTP.

    python bench/bench_relay.py                       # SQLite in a temp dir
    python bench/bench_relay.py --db postgresql+psycopg://postgres@127.0.0.1:55432/fulcrum_bench

The server runs in its own process (one uvicorn worker); the load generator runs in another
(asyncio + httpx, a few concurrent sender/receiver pairs). Envelopes are pre-built fake
ciphertexts: the relay never decrypts. Baseline: GET /v1/health requests per second against the
same server, measured in the same run, so the ratio shows what the send path costs on top of the
framework. Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing as mp
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from fulcrum.encoding import b64e
from fulcrum.hazmat.signing import SigningKey
from fulcrum.wire.statements import device_key_statement


def _std(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _device(account: str) -> dict[str, Any]:
    sk = SigningKey.generate()
    ik, spk = _std(secrets.token_bytes(32)), _std(sk.public_key().raw)
    sig = _std(sk.sign(device_key_statement(account, ik, spk)))
    return {"identity_key": ik, "signing_key": spk, "signature": sig}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _register(c: httpx.AsyncClient, name: str) -> tuple[str, dict[str, str]]:
    r = await c.post(
        "/v1/accounts", json={"name": name, "birth_year": 1990, "device": _device(name)}
    )
    r.raise_for_status()
    body = r.json()
    return body["device_id"], {"Authorization": f"Bearer {body['token']}"}


async def _pair(c: httpx.AsyncClient, idx: int, messages: int, body: bytes) -> int:
    a, b = f"s{idx}", f"r{idx}"
    _a_dev, a_auth = await _register(c, a)
    b_dev, b_auth = await _register(c, b)
    envs = [
        {
            "msg_id": b64e(secrets.token_bytes(16)),
            "conv": f"dm:{min(a, b)}:{max(a, b)}",
            "body": b64e(body),
            "commitment": b64e(secrets.token_bytes(32)),  # franking commitment slot
            "recipients": [{"account": b, "device_id": b_dev, "type": 1, "body": b64e(body[:96])}],
        }
        for _ in range(messages)
    ]

    async def send() -> None:
        for env in envs:
            (await c.post("/v1/messages", json=env, headers=a_auth)).raise_for_status()

    async def receive() -> int:
        got = 0
        for _ in range(messages * 20):  # bounded
            if got >= messages:
                break
            page = (await c.get("/v1/queue", params={"limit": 200}, headers=b_auth)).json()
            seqs = [i["seq"] for i in page["items"]]
            if seqs:
                r = await c.post("/v1/queue/ack", json={"seqs": seqs}, headers=b_auth)
                got += r.json()["acked"]
            else:
                await asyncio.sleep(0.005)
        return got

    _, got = await asyncio.gather(send(), receive())
    return got


async def _load(url: str, pairs: int, messages: int, size: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=pairs * 2 + 4)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as c:
        t0 = time.perf_counter()
        n = 0
        for _ in range(2000):  # baseline: framework cost of a trivial request
            await c.get("/v1/health")
            n += 1
        health_rps = n / (time.perf_counter() - t0)
        body = secrets.token_bytes(size)
        t0 = time.perf_counter()
        delivered = await asyncio.gather(*(_pair(c, i, messages, body) for i in range(pairs)))
        elapsed = time.perf_counter() - t0
    total = sum(delivered)
    return {"health_rps": health_rps, "messages": total, "seconds": elapsed}


def _load_process(url: str, pairs: int, messages: int, size: int, out: Any) -> None:
    out.put(asyncio.run(_load(url, pairs, messages, size)))


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit("server exited during startup")
        try:
            if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", help="database URL (default: SQLite in a temp dir)")
    ap.add_argument("--pairs", type=int, default=8, help="concurrent sender/receiver pairs")
    ap.add_argument("--messages", type=int, default=400, help="messages per pair")
    ap.add_argument("--size", type=int, default=256, help="body ciphertext bytes")
    ap.add_argument(
        "--log-level", default="WARNING", help="server log level (INFO logs each request)"
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "FULCRUM_LOG_LEVEL": args.log_level}
        cmd = [
            sys.executable,
            "-m",
            "fulcrum.cli.main",
            "serve",
            "--port",
            str(port),
            "--data",
            tmp,
        ]
        if args.db:
            cmd += ["--db", args.db]
        server = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
        try:
            _wait_ready(url, server)
            out: mp.Queue[dict[str, float]] = mp.Queue()
            loader = mp.Process(
                target=_load_process, args=(url, args.pairs, args.messages, args.size, out)
            )
            loader.start()
            result = out.get(timeout=600)
            loader.join(30)
        finally:
            server.terminate()
            server.wait(30)

    rate = result["messages"] / result["seconds"]
    backend = "postgresql" if args.db else "sqlite"
    print(
        f"backend: {backend}; cpus: {os.cpu_count()}; pairs: {args.pairs}; "
        f"body: {args.size} B; server log level: {args.log_level}"
    )
    print(f"baseline GET /v1/health: {result['health_rps']:.0f} req/s (one client, sequential)")
    print(
        f"messages sent+delivered+acked: {int(result['messages'])} in {result['seconds']:.2f} s "
        f"= {rate:.0f} msg/s"
    )
    print(f"ratio msg/s : health req/s = {rate / result['health_rps']:.2f}")


if __name__ == "__main__":
    main()
