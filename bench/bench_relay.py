"""Relay throughput: messages accepted + delivered + acked per second, end to end over HTTP.

    python bench/bench_relay.py                       # SQLite in a temp dir, one worker
    python bench/bench_relay.py --db postgresql+psycopg://postgres@127.0.0.1:55432/fulcrum_bench \\
        --workers 2

Give PostgreSQL an empty database (``dropdb``/``createdb``) or reuse ``--data``: the server keeps
its franking keys in the database wrapped under a key in its data directory.

The server runs in its own process (``uvicorn --factory fulcrum.server.app:app_from_environment``,
``--workers N``; the database is migrated once before it starts); the load generator runs in
another process: asyncio with a minimal keep-alive HTTP/1.1 client, so that the generator's own
cost stays small next to the server's on a 2-core machine. Each of ``--pairs`` sender/receiver
pairs sends ``--messages`` 1:1 envelopes (pre-built fake ciphertexts with a franking commitment:
the relay never decrypts) while the receiver fetches its queue (GET /v1/queue?limit=200) and acks
what it got (POST /v1/queue/ack). A message counts once it has been accepted, delivered and acked;
the rate is counted messages / (last ack - first send).

Phases, in one run against one server: ``single`` (POST /v1/messages, one envelope per request)
and ``batch`` (POST /v1/messages:batch, ``--batch`` envelopes per request). Receivers poll (an
empty page sleeps 5 ms) unless ``--push``, where each receiver holds the WebSocket push channel
and fetches when notified (the in-process push hub needs ``--workers 1``).

Before each phase's clock starts, one extra pair sends ``--warmup`` messages through the same
endpoints (untimed, not counted), so that the timed part does not include the server's first-use
costs (statement compilation, franking key set-up); ``--warmup 0`` turns this off.

Baseline, same run, same server: GET /v1/health requests per second with the same client and
concurrency. Also printed: server CPU per message (all server processes, from /proc, over the
timed part only) and the load generator's CPU, so figures from a shared machine can be read as
cost rather than only as rate. Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import multiprocessing as mp
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from fulcrum.encoding import b64e
from fulcrum.hazmat.signing import SigningKey
from fulcrum.wire.statements import device_key_statement

HOST = "127.0.0.1"


def _std(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _device(account: str) -> dict[str, Any]:
    sk = SigningKey.generate()
    ik, spk = _std(secrets.token_bytes(32)), _std(sk.public_key().raw)
    sig = _std(sk.sign(device_key_statement(account, ik, spk)))
    return {"identity_key": ik, "signing_key": spk, "signature": sig}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Conn:
    """One keep-alive HTTP/1.1 connection (Content-Length responses only, as uvicorn sends)."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n{self.auth}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        for _ in range(100):  # bounded header count
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        try:
            return status, json.loads(payload) if payload else None
        except ValueError:
            return status, payload[:200]  # e.g. a plain-text 500

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _ok(status: int, body: Any, what: str) -> Any:
    if status != 200:
        raise SystemExit(f"{what}: HTTP {status}: {body}")
    return body


async def _register(c: httpx.AsyncClient, name: str) -> tuple[str, str]:
    # adults: the minor-protection rules refuse first contact with unknown-age accounts
    account = {"name": name, "birth_year": 1980, "device": _device(name)}
    r = await c.post("/v1/accounts", json=account)
    r.raise_for_status()
    body = r.json()
    return str(body["device_id"]), str(body["token"])


def _envelopes(a: str, b: str, b_dev: str, n: int, body: bytes) -> list[dict[str, Any]]:
    return [
        {
            "msg_id": b64e(secrets.token_bytes(16)),
            "conv": f"dm:{min(a, b)}:{max(a, b)}",
            "body": b64e(body),
            "commitment": b64e(secrets.token_bytes(32)),  # franking commitment slot
            "recipients": [{"account": b, "device_id": b_dev, "type": 1, "body": b64e(body[:96])}],
        }
        for _ in range(n)
    ]


async def _receive(conn: Conn, messages: int, wake: asyncio.Event | None) -> int:
    got = 0
    for _ in range(messages * 50):  # bounded
        if got >= messages:
            break
        if wake is not None:
            wake.clear()  # before fetching: a push that lands during the fetch is not lost
        page = _ok(*await conn.request("GET", "/v1/queue?limit=200"), "fetch")
        seqs = [i["seq"] for i in page["items"]]
        if seqs:
            acked = _ok(*await conn.request("POST", "/v1/queue/ack", {"seqs": seqs}), "ack")
            got += acked["acked"]
        elif wake is None:
            await asyncio.sleep(0.005)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), 1.0)
    return got


async def _listen(port: int, token: str, wake: asyncio.Event, ready: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {token}"}
    async with connect(f"ws://{HOST}:{port}/v1/ws", additional_headers=headers) as ws:
        async for _frame in ws:
            ready.set()  # the hello frame
            wake.set()


class Pair:
    """One sender and one receiver account, registered before the clock starts."""

    def __init__(self, port: int, sender: str, receiver: str, envs: list[dict[str, Any]]) -> None:
        self.sender, self.receiver = Conn(port, sender), Conn(port, receiver)
        self.port, self.receiver_token, self.envs = port, receiver, envs
        self.wake: asyncio.Event | None = None
        self.listener: asyncio.Task[None] | None = None

    async def listen(self) -> None:
        self.wake, ready = asyncio.Event(), asyncio.Event()
        self.listener = asyncio.create_task(
            _listen(self.port, self.receiver_token, self.wake, ready)
        )
        await asyncio.wait_for(ready.wait(), 10)

    async def send(self, batch: int) -> None:
        if batch <= 1:
            for env in self.envs:
                _ok(*await self.sender.request("POST", "/v1/messages", env), "send")
            return
        for i in range(0, len(self.envs), batch):
            chunk = {"envelopes": self.envs[i : i + batch]}
            out = _ok(*await self.sender.request("POST", "/v1/messages:batch", chunk), "batch")
            bad = [r for r in out["results"] if r["status"] != 200]
            if bad:
                raise SystemExit(f"batch send refused: {bad[0]}")

    async def run(self, batch: int) -> tuple[int, float, float]:
        t0 = time.perf_counter()
        _, got = await asyncio.gather(
            self.send(batch), _receive(self.receiver, len(self.envs), self.wake)
        )
        t1 = time.perf_counter()
        if self.listener is not None:
            self.listener.cancel()
        self.sender.close()
        self.receiver.close()
        return got, t0, t1


async def _pair(c: httpx.AsyncClient, port: int, tag: str, n: int, push: bool, body: bytes) -> Pair:
    a, b = f"s{tag}", f"r{tag}"
    _a_dev, a_token = await _register(c, a)
    b_dev, b_token = await _register(c, b)
    pair = Pair(port, a_token, b_token, _envelopes(a, b, b_dev, n, body))
    if push:
        await pair.listen()
    return pair


async def _health(port: int, concurrency: int, n: int) -> float:
    conns = [Conn(port) for _ in range(concurrency)]

    async def one(conn: Conn) -> None:
        for _ in range(n // concurrency):
            _ok(*await conn.request("GET", "/v1/health"), "health")

    t0 = time.perf_counter()
    await asyncio.gather(*(one(c) for c in conns))
    rate = (n // concurrency) * concurrency / (time.perf_counter() - t0)
    for c in conns:
        c.close()
    return rate


async def _phase(
    port: int,
    name: str,
    pairs: int,
    messages: int,
    batch: int,
    push: bool,
    size: int,
    warmup: int,
    server_pid: int,
) -> dict[str, Any]:
    body = secrets.token_bytes(size)
    run_id = secrets.token_hex(4)  # fresh account names: the database may be reused
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=60) as c:
        if warmup > 0:  # untimed: the same endpoints once, so the clock sees a warm server
            spare = await _pair(c, port, f"w{name[0]}{run_id}", warmup, push, body)
            await spare.run(batch)
        ready = [
            await _pair(c, port, f"{name[0]}{run_id}{i}", messages, push, body)
            for i in range(pairs)
        ]
    cpu0, server0 = time.process_time(), _tree_cpu(server_pid)
    results = await asyncio.gather(*(p.run(batch) for p in ready))
    counted = sum(r[0] for r in results)
    seconds = max(r[2] for r in results) - min(r[1] for r in results)
    return {
        "counted": counted,
        "seconds": seconds,
        "loader_cpu": time.process_time() - cpu0,
        "server_cpu": _tree_cpu(server_pid) - server0,
    }


def _tree_cpu(root: int) -> float:
    """utime + stime, in seconds, of ``root`` and all its descendants."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        parent[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    members = {root}
    grew = True
    while grew:
        more = {p for p, pp in parent.items() if pp in members and p not in members}
        members |= more
        grew = bool(more)
    return sum(ticks.get(p, 0) for p in members) / os.sysconf("SC_CLK_TCK")


def _loader(port: int, args: argparse.Namespace, server_pid: int, out: Any) -> None:
    async def run() -> dict[str, Any]:
        report: dict[str, Any] = {"health": await _health(port, args.pairs, 2000)}
        phases = [("single", 1)] if args.batch <= 1 else [("single", 1), ("batch", args.batch)]
        if args.only:
            phases = [p for p in phases if p[0] == args.only]
        for name, batch in phases:
            r = await _phase(
                port,
                name,
                args.pairs,
                args.messages,
                batch,
                args.push,
                args.size,
                args.warmup,
                server_pid,
            )
            report[name] = r
        return report

    try:
        out.put(asyncio.run(run()))
    except BaseException as exc:  # hand the failure to the parent instead of hanging it
        out.put({"error": f"{type(exc).__name__}: {exc}"})


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit("server exited during startup")
        try:
            if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not start")


def _server(args: argparse.Namespace, port: int, data: str) -> subprocess.Popen[bytes]:
    from fulcrum.server.settings import ServerSettings
    from fulcrum.store import Database

    env = {**os.environ, "FULCRUM_LOG_LEVEL": args.log_level, "FULCRUM_DATA_DIR": data}
    env["FULCRUM_SQLITE_SYNCHRONOUS"] = args.sqlite_synchronous
    if args.db:
        env["FULCRUM_DB_URL"] = args.db
    settings = ServerSettings(data_dir=Path(data), db_url=args.db)
    db = Database.connect(settings.database_url, pool_size=1)
    db.migrate()  # once, before the workers start
    db.dispose()
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "fulcrum.server.app:app_from_environment"]
    cmd += ["--host", HOST, "--port", str(port), "--workers", str(args.workers)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, env=env, stderr=None if args.server_stderr else subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", help="database URL (default: SQLite in a temp dir)")
    ap.add_argument("--data", help="server data directory (default: a temp dir)")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--pairs", type=int, default=8, help="concurrent sender/receiver pairs")
    ap.add_argument("--messages", type=int, default=400, help="messages per pair and phase")
    ap.add_argument("--batch", type=int, default=50, help="envelopes per batch request (1: off)")
    ap.add_argument("--only", choices=["single", "batch"], help="run one phase")
    ap.add_argument("--push", action="store_true", help="receivers wait on the WebSocket")
    ap.add_argument("--size", type=int, default=256, help="body ciphertext bytes")
    ap.add_argument(
        "--warmup", type=int, default=200, help="untimed messages per phase first (one pair)"
    )
    ap.add_argument("--sqlite-synchronous", default="NORMAL", choices=["NORMAL", "FULL"])
    ap.add_argument("--log-level", default="WARNING", help="server log level")
    ap.add_argument("--server-stderr", action="store_true", help="show the server's stderr")
    args = ap.parse_args()
    if args.push and args.workers != 1:
        raise SystemExit("--push needs --workers 1: the in-process push hub is per worker")

    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        server = _server(args, port, args.data or tmp)
        try:
            _wait_ready(f"http://{HOST}:{port}", server)
            out: mp.Queue[dict[str, Any]] = mp.Queue()
            loader = mp.Process(target=_loader, args=(port, args, server.pid, out))
            loader.start()
            result = out.get(timeout=1200)
            loader.join(30)
            if "error" in result:
                raise SystemExit(f"load generator failed: {result['error']}")
        finally:
            server.terminate()
            server.wait(30)

    backend = "postgresql" if args.db else f"sqlite (synchronous={args.sqlite_synchronous})"
    print(
        f"backend: {backend}; workers: {args.workers}; cpus: {os.cpu_count()}; "
        f"pairs: {args.pairs}; messages/pair/phase: {args.messages} (warm-up {args.warmup}); "
        f"body: {args.size} B; "
        f"receivers: {'push' if args.push else 'poll'}; load avg: {os.getloadavg()[0]:.1f}"
    )
    health = result["health"]
    print(f"baseline GET /v1/health: {health:.0f} req/s ({args.pairs} keep-alive connections)")
    for name in ("single", "batch"):
        if name not in result:
            continue
        r = result[name]
        rate = r["counted"] / r["seconds"]
        per = f"{args.batch} per request" if name == "batch" else "1 per request"
        print(
            f"{name:6} ({per}): {r['counted']} messages sent+delivered+acked in "
            f"{r['seconds']:.2f} s = {rate:.0f} msg/s; ratio to health req/s {rate / health:.2f}; "
            f"server CPU {1000 * r['server_cpu'] / max(r['counted'], 1):.2f} ms/msg; "
            f"load generator CPU {1000 * r['loader_cpu'] / max(r['counted'], 1):.2f} ms/msg"
        )


if __name__ == "__main__":
    main()
