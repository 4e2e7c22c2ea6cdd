"""End to end with every trustee a real `fulcrum trustee serve` process with its own key store:
enrolment, the DKG, warrant approvals, partials and decryption. A 2-of-3 council (three
processes, not five) keeps the test short; the five-trustee flows run with in-process apps."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.integration.access.conftest import Desk
from tests.integration.client.conftest import World
from tests.integration.trustee.conftest import TOKEN
from typer.testing import CliRunner

from fulcrum.cli.trustee import trustee_app
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.server.access.remote import parse_trustee_urls
from fulcrum.server.escrow import DEFAULT_POLICY, EscrowPolicy, TrusteeCouncil
from fulcrum.server.loopback import free_port
from fulcrum.translog import EpochKey, PartialsIssued, TrusteeApproval
from fulcrum.trustee import token_hash

pytestmark = pytest.mark.integration
POLICY = EscrowPolicy(n=3, t=2, epoch_seconds=DEFAULT_POLICY.epoch_seconds,
                      retention_seconds=DEFAULT_POLICY.retention_seconds,
                      trustees=("trustee-1", "trustee-2", "trustee-3"))  # fmt: skip


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedServer]:
    """The platform with a 2-of-3 policy and a URL for every trustee: the council is remote."""
    urls = ",".join(f"{i}@http://127.0.0.1:{free_port()}" for i in range(1, POLICY.n + 1))
    monkeypatch.setenv("FULCRUM_ACCESS_RETROSPECTIVE_SECONDS", "3600")
    monkeypatch.setenv("FULCRUM_ACCESS_TRUSTEES", urls)
    monkeypatch.setenv("FULCRUM_ACCESS_TRUSTEE_TOKEN", TOKEN)
    monkeypatch.setenv("FULCRUM_ACCESS_TRUSTEE_TIMEOUT", "60")
    srv = EmbeddedServer(tmp_path / "platform", roles=("relay", "log", "access"),
                         escrow_policy=POLICY).start()  # fmt: skip
    yield srv
    srv.stop()


def start_trustees(server: EmbeddedServer, hosts: Path) -> list[subprocess.Popen[bytes]]:
    council = server.app.state.fulcrum.features["escrow"]
    keys = httpx.get(f"{server.url}/v1/log/keys").json()
    urls = parse_trustee_urls(server.settings.access_trustees)
    ports = [int(urls[i].rsplit(":", 1)[1]) for i in sorted(urls)]
    procs = []
    for name, port in zip(council.policy.trustees, ports, strict=True):
        store = hosts / name
        assert CliRunner().invoke(trustee_app, ["keygen", "--store", str(store)]).exit_code == 0
        token_file = hosts / f"{name}.token"
        token_file.write_text(f"sha256:{token_hash(TOKEN)}\n")
        cmd = [sys.executable, "-m", "fulcrum.cli.trustee", "serve", "--data", str(store),
               "--platform", server.url, "--log-key", keys["log_vkey"],
               "--token-file", str(token_file), "--port", str(port)]  # fmt: skip
        for vkey in keys["witness_vkeys"]:
            cmd += ["--witness-key", vkey]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    deadline = time.monotonic() + 60
    for proc, port in zip(procs, ports, strict=True):
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/key").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "trustee did not start"
            time.sleep(0.1)
    return procs


@pytest.fixture
def trustee_processes(server: EmbeddedServer, tmp_path: Path) -> Iterator[TrusteeCouncil]:
    council = server.app.state.fulcrum.features["escrow"]
    assert isinstance(council, TrusteeCouncil) and council.remote
    procs = start_trustees(server, tmp_path / "hosts")
    try:
        data = str(server.settings.data_dir)
        out = CliRunner().invoke(trustee_app, ["enroll", "--data", data], env=dict(os.environ))
        assert out.exit_code == 0, out.output
        assert out.output.count("not pinned") == 0
        yield council
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def test_dkg_approval_and_partials_with_trustee_processes(
    world: World, desk: Desk, trustee_processes: TrusteeCouncil, tmp_path: Path
) -> None:
    council = trustee_processes
    # the DKG could not run at start-up (no trustee was up); the next ask for the epoch key
    # makes the platform coordinate it among the trustee processes, then serve the key
    epoch = council.policy.epoch_at(time.time())
    assert council.record(epoch) is None
    r = httpx.get(f"{desk.server.url}/v1/escrow/epoch-key", timeout=120)
    assert r.status_code == 200, r.text
    alice, bob = await world.user("alice"), await world.user("bob")
    record = council.record(epoch)
    assert record is not None and len(record.signatures) == POLICY.n
    assert all((tmp_path / "hosts" / n / "shares").is_dir() for n in council.policy.trustees)
    assert not (Path(desk.server.settings.data_dir) / "escrow" / "trustees").exists()
    status = CliRunner().invoke(
        trustee_app, ["status", "--data", str(desk.server.settings.data_dir)]
    )
    assert status.output.count("remote, fingerprint") == POLICY.n, status.output
    assert "3 trustee signatures; shares on the trustees' hosts, destroyed (logged) 0" in (
        status.output
    )
    signed = desk.warrant(["alice"])
    wid = signed.warrant.warrant_id
    assert desk.activate(signed)["stage"] == "approved"
    await alice.send_text("bob", "in scope from alice")
    await bob.send_text("alice", "in scope to alice")
    r = desk.call("authority", "POST", f"/warrants/{wid}/requests", json={})
    assert r.status_code == 200, r.text
    [request_id] = r.json()["request_ids"]
    r = desk.call("operator", "POST", f"/requests/{request_id}/partials", json={})
    assert r.status_code == 200, r.text
    r = desk.call("authority", "POST", f"/requests/{request_id}/complete")
    assert r.status_code == 200, r.text
    assert desk.service.requests_of(wid)[0].decrypted == 2
    entries = desk.service.entries()
    assert sum(isinstance(e, EpochKey) for e in entries) == 1
    approvals = [e for e in entries if isinstance(e, TrusteeApproval) and e.warrant_id == wid]
    assert len(approvals) == POLICY.n and all(a.approved for a in approvals)
    issued = {e.trustee_id for e in entries if isinstance(e, PartialsIssued)}
    assert issued == set(council.policy.trustees)
