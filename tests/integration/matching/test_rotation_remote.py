"""Epoch rotation (new logged manifest, matches across the rotation still release) and a
custodian in a separate process reached over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.integration.matching.conftest import PASS, THRESHOLD, Users, matching_of
from tests.unit.matching.world import TRANSFORMS, bank_images, generated, jpeg

from fulcrum.client.matching_layer import pin_trust
from fulcrum.client.sdk import FulcrumClient
from fulcrum.demo.embedded import EmbeddedServer, free_port
from fulcrum.matching import SourceListing
from fulcrum.matching.pdq import hash_pil
from fulcrum.server.custodian import CustodianState
from fulcrum.server.routes.custodian import custodian_state
from fulcrum.store.matching import MatchLedger

pytestmark = pytest.mark.integration
EDITS = ["jpeg_q70", "resize_50", "brightness", "caption"]


def _bank(custodian: CustodianState) -> None:
    for source in ("hotline-a", "hotline-b"):
        listings = [
            SourceListing(hash_pil(img).value, source, f"{source}-{i}")
            for i, img in enumerate(bank_images()[:5])
        ]
        custodian.import_listings("demo", listings)


def _edit(tmp: Path, i: int) -> Path:
    path = tmp / f"edit{i}.jpg"
    path.write_bytes(TRANSFORMS[EDITS[i]](bank_images()[i]))
    return path


def _ledger(server: EmbeddedServer, account: str) -> tuple[list[int], list[str]]:
    with server.app.state.fulcrum.db.read() as session:
        ledger = MatchLedger(session)
        epochs = [m.epoch for m in ledger.for_account(account, 0)]
        released = sorted(r.image_id for r in ledger.released(account))
    return epochs, released


async def test_rotation_logs_new_manifest_and_releases_across_it(
    users: Users, tmp_path: Path
) -> None:
    server = users.server
    custodian = custodian_state(server.app)
    matching = matching_of(server)
    alice = await users.user("alice")
    await users.user("bob")
    first = custodian.manifest()
    assert matching.manifest_log is not None
    assert matching.manifest_log.find(first.core_digest()) is not None
    sent = []
    for i in range(THRESHOLD - 1):
        receipt = await alice.send_text("bob", "look", [_edit(tmp_path, i)])
        sent.append(f"{receipt.msg_id}:0")
    assert _ledger(server, "alice") == ([first.epoch] * (THRESHOLD - 1), [])
    # Rotate: a new VOPRF key and LSH seed; the new manifest is logged at publish.
    second = custodian.rotate()
    assert second.epoch == first.epoch + 1
    assert second.voprf_public_key != first.voprf_public_key
    index = matching.manifest_log.find(second.core_digest())
    assert index is not None and index > (matching.manifest_log.find(first.core_digest()) or 0)
    # The client picks up the new manifest (and checks its log entry); the match under the new
    # key completes the threshold, releasing the images matched under the old key too.
    receipt = await alice.send_text("bob", "look", [_edit(tmp_path, THRESHOLD - 1)])
    sent.append(f"{receipt.msg_id}:0")
    epochs, released = _ledger(server, "alice")
    assert epochs == [first.epoch] * (THRESHOLD - 1) + [second.epoch]
    assert released == sorted(sent)
    # An unrelated picture under the new epoch stores nothing.
    other = tmp_path / "other.jpg"
    other.write_bytes(jpeg(generated(77)))
    await alice.send_text("bob", "unrelated", [other])
    assert len(_ledger(server, "alice")[0]) == THRESHOLD


@pytest.fixture
def remote_custodian(tmp_path: Path) -> Iterator[tuple[str, str, CustodianState]]:
    data = tmp_path / "custodian-data"
    state = CustodianState(data / "custodian")
    _bank(state)
    state.publish(1, account_threshold=THRESHOLD)
    port = free_port()
    exe = Path(sys.executable).parent / "fulcrum"
    cmd = [str(exe), "custodian", "serve", "--data", str(data), "--port", str(port)]
    env = {**os.environ, "FULCRUM_DATA_DIR": str(data)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # slow starts on loaded CI machines
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"custodian exited: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{url}/v1/custodian/manifest", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("custodian did not start in 120 s")
            time.sleep(0.2)
        yield url, state.operator_token, state
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


async def test_separate_process_custodian_over_http(
    remote_custodian: tuple[str, str, CustodianState],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, token, custodian = remote_custodian
    # Without the operator token the custodian evaluates nothing.
    refused = httpx.post(f"{url}/v1/custodian/evaluate", content=b"FMEQ")
    assert refused.status_code == 401
    monkeypatch.setenv("FULCRUM_MATCHING_CUSTODIAN_URL", url)
    monkeypatch.setenv("FULCRUM_MATCHING_CUSTODIAN_TOKEN", token)
    server = EmbeddedServer(tmp_path / "platform", roles=("relay",)).start()
    clients: list[FulcrumClient] = []
    try:
        for name in ("carol", "dave"):
            client = await FulcrumClient.register(
                tmp_path / name, server.url, name, PASS, birth_year=1990, log2_n=10
            )
            pin_trust(client, custodian.trust())
            clients.append(client)
        carol = clients[0]
        sent = []
        for i in range(THRESHOLD):
            receipt = await carol.send_text("dave", "look", [_edit(tmp_path, i)])
            sent.append(f"{receipt.msg_id}:0")
        # The platform logged the remote custodian's manifest before serving it.
        matching = matching_of(server)
        assert matching.manifest_log is not None
        assert matching.manifest_log.find(custodian.manifest().core_digest()) is not None
        assert _ledger(server, "carol")[1] == sorted(sent)
    finally:
        for client in clients:
            await client.close()
        server.stop()
