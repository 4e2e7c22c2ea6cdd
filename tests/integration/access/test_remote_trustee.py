"""One trustee as its own process (``fulcrum trustee serve``), the others in the server."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.integration.access.conftest import Desk
from tests.integration.client.conftest import World

from fulcrum.access import LogTrust, WarrantOpening
from fulcrum.access.wire import logged_to_json, opening_to_json, request_to_json
from fulcrum.demo.embedded import EmbeddedServer, free_port
from fulcrum.hazmat.signing import SigningKey
from fulcrum.server.escrow.keystore import TrusteeKeyStore
from fulcrum.translog import CosignatureSigner, PartialsIssued, parse_entry
from fulcrum.translog.note import verifier_from_vkey
from fulcrum.trustee import PlatformLog, create_trustee_app, token_hash

pytestmark = pytest.mark.integration
TOKEN = "trustee-operator-token-for-tests"
REMOTE_PORT = free_port()


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedServer]:
    monkeypatch.setenv("FULCRUM_ACCESS_RETROSPECTIVE_SECONDS", "3600")
    monkeypatch.setenv("FULCRUM_ACCESS_TRUSTEES", f"1@http://127.0.0.1:{REMOTE_PORT}")
    monkeypatch.setenv("FULCRUM_ACCESS_TRUSTEE_TOKEN", TOKEN)
    monkeypatch.setenv("FULCRUM_ACCESS_TRUSTEE_TIMEOUT", "60")
    srv = EmbeddedServer(tmp_path / "server", roles=("relay", "log", "access")).start()
    yield srv
    srv.stop()


def first_trustee(server: EmbeddedServer) -> Path:
    council = server.app.state.fulcrum.features["escrow"]
    return Path(server.settings.data_dir) / "escrow" / "trustees" / council.policy.trustees[0]


def log_keys(server: EmbeddedServer) -> dict[str, object]:
    return dict(httpx.get(f"{server.url}/v1/log/keys").json())


@pytest.fixture
def remote(server: EmbeddedServer, tmp_path: Path) -> Iterator[Path]:
    """Trustee 1's key store handed to its host; the server keeps only its identity key."""
    platform_copy = first_trustee(server)
    host_dir = tmp_path / "host" / platform_copy.name
    shutil.copytree(platform_copy, host_dir)
    shutil.rmtree(platform_copy / "shares")  # the server can no longer answer for trustee 1
    token_file = tmp_path / "host" / "token"
    token_file.write_text(f"sha256:{token_hash(TOKEN)}\n")
    keys = log_keys(server)
    cmd = [sys.executable, "-m", "fulcrum.cli.trustee", "serve", "--data", str(host_dir),
           "--platform", server.url, "--log-key", str(keys["log_vkey"]),
           "--token-file", str(token_file), "--port", str(REMOTE_PORT)]  # fmt: skip
    for vkey in keys["witness_vkeys"]:  # type: ignore[attr-defined]
        cmd += ["--witness-key", vkey]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            try:
                if httpx.get(f"http://127.0.0.1:{REMOTE_PORT}/key").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "trustee did not start"
            time.sleep(0.1)
        yield host_dir
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def requested(world: World, desk: Desk) -> tuple[str, str]:
    alice, bob = await world.user("alice"), await world.user("bob")
    signed = desk.warrant(["alice"])
    wid = signed.warrant.warrant_id
    assert desk.activate(signed)["stage"] == "approved"
    await alice.send_text("bob", "in scope from alice")
    await bob.send_text("alice", "in scope to alice")
    r = desk.call("authority", "POST", f"/warrants/{wid}/requests", json={})
    assert r.status_code == 200, r.text
    [request_id] = r.json()["request_ids"]
    return wid, request_id


async def test_warrant_flow_with_a_remote_trustee(world: World, desk: Desk, remote: Path) -> None:
    _, request_id = await requested(world, desk)
    r = desk.call("operator", "POST", f"/requests/{request_id}/partials", json={})
    assert r.status_code == 200, r.text
    names = desk.service.council.policy.trustees  # type: ignore[union-attr]
    issued = [e for e in desk.service.entries() if isinstance(e, PartialsIssued)]
    assert names[0] in {e.trustee_id for e in issued}
    r = desk.call("authority", "POST", f"/requests/{request_id}/complete")
    assert r.status_code == 200, r.text
    assert desk.service.requests_of(r.json()["warrant_id"])[0].decrypted == 2


async def test_remote_trustee_refuses_unverifiable_evidence(
    world: World, desk: Desk, remote: Path, server: EmbeddedServer
) -> None:
    wid, request_id = await requested(world, desk)
    service = desk.service
    row, request = service.load_request(request_id)
    logged = service.logged(row)
    body = {"request": request_to_json(request), "opening": opening_to_json(service.opening(wid)),
            "logged": logged_to_json(logged)}  # fmt: skip
    url = f"http://127.0.0.1:{REMOTE_PORT}/partials"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.post(url, json=body, timeout=60).status_code == 401
    assert httpx.post(url, json=body, headers={"Authorization": "Bearer x"}).status_code == 401
    # the caller points at another entry: the trustee reads that entry itself and refuses
    wrong = dict(body, logged=dict(body["logged"], leaf_index=0))  # type: ignore[arg-type]
    r = httpx.post(url, json=wrong, headers=auth, timeout=60)
    assert r.status_code == 409 and r.json()["code"] == "request_refused", r.text
    # an opening of another warrant under the same id does not match the logged commitment
    forged = desk.warrant(["alice", "carol"])
    bad = dict(body, opening=opening_to_json(WarrantOpening.create(forged)))
    r = httpx.post(url, json=bad, headers=auth, timeout=60)
    assert r.status_code == 409 and "does not match the log" in r.json()["message"], r.text
    # a trustee pinned to other witnesses does not believe the platform's checkpoint
    keys = log_keys(server)
    fake = tuple(CosignatureSigner(f"w{i}.example", SigningKey.generate()).verifier()
                 for i in range(3))  # fmt: skip
    trust = LogTrust(verifier_from_vkey(str(keys["log_vkey"])), fake, 2)
    store = TrusteeKeyStore(remote, remote.name)
    app = create_trustee_app(store, PlatformLog(server.url, trust), token_hash(TOKEN))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://trustee") as client:
        r = await client.post("/partials", json=body, headers=auth, timeout=60)
    assert r.status_code == 502 and r.json()["code"] == "log_unverified", r.text
    # the honest request: the remote trustee answers with a partial the server accepts
    r = httpx.post(url, json=body, headers=auth, timeout=60)
    assert r.status_code == 200, r.text
    entry = parse_entry(logged.entry_bytes)
    assert r.json()["entry"]["request_id"] == request_id == getattr(entry, "request_id", None)


async def test_unreachable_remote_trustee_counts_as_a_refusal(world: World, desk: Desk) -> None:
    """Nothing listens on trustee 1's port: it refuses, the four in-process trustees answer."""
    _, request_id = await requested(world, desk)
    names = desk.service.council.policy.trustees  # type: ignore[union-attr]
    refused = desk.service.answer(request_id)
    assert set(refused) == {names[0]} and "unreachable" in refused[names[0]]
    issued = {e.trustee_id for e in desk.service.entries() if isinstance(e, PartialsIssued)}
    assert issued == set(names[1:])
