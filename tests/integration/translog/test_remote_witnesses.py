"""The log service with two witnesses running as their own processes (``fulcrum witness serve``)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fulcrum.server import create_app
from fulcrum.server.testing import LiveServer, free_port, make_test_settings
from fulcrum.server.translog import (
    LOG_ORIGIN,
    CheckpointRefused,
    TransparencyLog,
    open_log,
    transparency_log,
)
from fulcrum.server.translog.keys import load_log_signer
from fulcrum.store import Database
from fulcrum.store.translog import LogTables
from fulcrum.translog import (
    Checkpoint,
    CosignatureVerifier,
    RefusalReason,
    WitnessRefusal,
    root_hash,
    sign_checkpoint,
    verify_cosigned_checkpoint,
)
from fulcrum.witness import WitnessStore

pytestmark = pytest.mark.integration

NAMES = ("witness-remote-a.fulcrum.test", "witness-remote-b.fulcrum.test")


def _start_witness(data: Path, name: str, log_vkey: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "fulcrum.cli.witness", "serve", "--data", str(data)]
    cmd += ["--name", name, "--port", str(port), "--log-key", log_vkey]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"witness exited: {proc.stderr.read() if proc.stderr else b''!r}")
        try:
            if httpx.get(url + "/key", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("witness did not start")


@pytest.fixture
def witnesses(tmp_path: Path) -> Iterator[list[tuple[str, str]]]:
    """Two witness processes for the log whose key is in ``tmp_path/data``: [(vkey, url)]."""
    log_vkey = load_log_signer(tmp_path / "data" / "translog", LOG_ORIGIN).verifier().vkey
    procs: list[subprocess.Popen[bytes]] = []
    out: list[tuple[str, str]] = []
    try:
        for name in NAMES:
            vkey = WitnessStore(tmp_path / name).signer(name).verifier().vkey
            proc, url = _start_witness(tmp_path / name, name, log_vkey)
            procs.append(proc)
            out.append((vkey, url))
        yield out
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_checkpoints_cosigned_by_remote_witnesses_and_fork_refused(
    tmp_path: Path, witnesses: list[tuple[str, str]]
) -> None:
    remote = ",".join(f"{vkey}@{url}" for vkey, url in witnesses)
    pinned = [CosignatureVerifier.from_vkey(vkey) for vkey, _ in witnesses]
    settings = make_test_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'main.db'}",
        roles=("relay", "log"),
        log_witnesses=remote,
        log_inprocess_witnesses=0,
    )
    app = create_app(settings)
    log = transparency_log(app.state.fulcrum)
    assert sorted(w.vkey for w in log.witness_verifiers()) == sorted(v.vkey for v in pinned)
    with LiveServer(app) as live, httpx.Client(base_url=live.url + "/v1") as http:
        for size in (3, 7):
            while log.size() < size:
                log.append(b"entry %d" % log.size())
            note = http.get("/log/checkpoint").content
            cosigned = verify_cosigned_checkpoint(note, log.verifier, pinned)
            assert cosigned.checkpoint.size == size and set(cosigned.witnesses) == set(NAMES)
        keys = http.get("/log/keys").json()
        assert sorted(keys["witness_vkeys"]) == sorted(v.vkey for v in pinned)

    # an operator CLI opening the same log afresh (remote sizes unknown) recovers via 409
    again = open_log(settings.data_dir, Database.connect(settings.database_url), remote, 0)
    again.append(b"entry 7")
    assert again.checkpoint().size == 8

    # a forked log: same log key, another database with other entries, bigger tree
    fork_db = Database.connect(f"sqlite:///{tmp_path / 'fork.db'}")
    fork_db.migrate()
    fork = open_log(settings.data_dir, fork_db, remote, 0)
    for i in range(12):
        fork.append(b"forged %d" % i)
    with pytest.raises(CheckpointRefused) as info:
        fork.checkpoint()
    reasons = {r.reason for r in info.value.refusals}
    assert reasons == {RefusalReason.INCONSISTENT}
    for witness in fork.witnesses:  # and no cosignature leaked for the fork
        with pytest.raises(WitnessRefusal):
            witness.cosign(fork_db, fork_note(fork), [], 8, 0)


def fork_note(fork: TransparencyLog) -> bytes:
    """The fork's own signed checkpoint of its whole tree, without cosignatures."""
    size = fork.size()
    with fork.db.read() as s:
        root = root_hash(LogTables(s).tree(), size)
    return sign_checkpoint(Checkpoint(fork.origin, size, root), fork.signer)


def test_unreachable_remote_witness_counts_as_a_refusal(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'main.db'}")
    db.migrate()
    vkey = WitnessStore(tmp_path / "w").signer("dead.fulcrum.test").verifier().vkey
    dead = f"{vkey}@http://127.0.0.1:{free_port()}"  # nothing listens there
    log = open_log(tmp_path / "data", db, dead, 2, timeout=2.0)
    log.append(b"one")
    assert log.checkpoint().size == 1  # the two in-process witnesses are a quorum
    short = open_log(tmp_path / "data", db, dead, 1, timeout=2.0)
    short.append(b"two")
    with pytest.raises(CheckpointRefused, match="need 2"):
        short.checkpoint()
