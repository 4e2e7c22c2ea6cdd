"""The stand-alone witness app and its store, and the log's RemoteWitness client against it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.unit.translog.support import checkpoint_note, log_signer, tree_of

from fulcrum.server.testing import LiveServer
from fulcrum.server.translog.remote import RemoteWitness, WitnessUnreachable, parse_witness_urls
from fulcrum.translog import (
    CosignatureQuorumError,
    CosignatureVerifier,
    RefusalReason,
    WitnessRefusal,
    verify_cosigned_checkpoint,
)
from fulcrum.translog.note import std_b64encode
from fulcrum.witness import WitnessStore, create_witness_app, parse_add_checkpoint
from fulcrum.witness.store import STATE_FILE, WitnessStoreError

pytestmark = pytest.mark.unit


def entries(n: int, tag: bytes = b"e") -> list[bytes]:
    return [tag + i.to_bytes(4, "big") for i in range(n)]


def body(old: int, proof: list[bytes], note: bytes) -> bytes:
    return (
        f"old {old}\n".encode()
        + b"".join(std_b64encode(h).encode() + b"\n" for h in proof)
        + b"\n"
        + note
    )


@contextmanager
def client(tmp_path: Path, name: str = "w1.fulcrum.test") -> Iterator[httpx.Client]:
    store = WitnessStore(tmp_path / name)
    app = create_witness_app(store, [log_signer().verifier()], name=name, clock=lambda: 1000.0)
    with LiveServer(app) as live, httpx.Client(base_url=live.url) as http:
        yield http


def test_cosigns_consistent_growth_and_persists_state(tmp_path: Path) -> None:
    tree = tree_of(entries(20))
    with client(tmp_path) as c:
        first = c.post("/add-checkpoint", content=body(0, [], checkpoint_note(tree, 5)))
        assert first.status_code == 200 and first.text.startswith("\u2014 w1.fulcrum.test ")
        grown = body(5, tree.consistency_proof(5, 20), checkpoint_note(tree, 20))
        assert c.post("/add-checkpoint", content=grown).status_code == 200
    state = WitnessStore(tmp_path / "w1.fulcrum.test").load()
    head = state.head(log_signer().name)
    assert head is not None and head.size == 20
    # a restarted witness (new app on the same data dir) still knows size 20
    with client(tmp_path) as c:
        stale = c.post("/add-checkpoint", content=body(5, [], checkpoint_note(tree, 20)))
        assert stale.status_code == 409 and stale.text == "20\n"
        assert stale.headers["content-type"].startswith("text/x.tlog.size")


@pytest.mark.parametrize(
    ("reason", "status"),
    [("split", 422), ("inconsistent", 422), ("rollback", 422), ("forged", 403), ("junk", 400)],
)
def test_refusals_are_typed_and_leave_state(tmp_path: Path, reason: str, status: int) -> None:
    honest = tree_of(entries(10))
    forked = tree_of(entries(12, b"x"))
    with client(tmp_path) as c:
        assert c.post("/add-checkpoint", content=body(0, [], checkpoint_note(honest, 8))).is_success
        before = (tmp_path / "w1.fulcrum.test" / STATE_FILE).read_bytes()
        payload = {
            "split": body(8, [], checkpoint_note(forked, 8)),
            "inconsistent": body(8, forked.consistency_proof(8, 12), checkpoint_note(forked, 12)),
            "rollback": body(8, [], checkpoint_note(honest, 4)),
            "forged": body(8, [], checkpoint_note(honest, 10, log_signer(seed=9))),
            "junk": b"old x\n\nnope",
        }[reason]
        resp = c.post("/add-checkpoint", content=payload)
        assert resp.status_code == status
        assert "Fulcrum-Refusal" in resp.headers
    assert (tmp_path / "w1.fulcrum.test" / STATE_FILE).read_bytes() == before


def test_parse_add_checkpoint_rejects_malformed() -> None:
    for bad in [
        b"",
        b"old 01\n\nx",
        b"old 1\nnot-b64!\n\nx",
        b"old 1\n" + b"QQ==\n\nx",
        b"new 1\n\nx",
    ]:
        with pytest.raises(WitnessRefusal) as info:
            parse_add_checkpoint(bad)
        assert info.value.reason is RefusalReason.MALFORMED


def test_store_key_name_is_fixed(tmp_path: Path) -> None:
    store = WitnessStore(tmp_path)
    with pytest.raises(WitnessStoreError):
        store.signer()
    signer = store.signer("w.fulcrum.test")
    assert store.signer().verifier() == signer.verifier()
    with pytest.raises(WitnessStoreError):
        store.signer("other.fulcrum.test")
    assert "seed" not in repr(store) and (tmp_path / "witness.key").stat().st_mode & 0o077 == 0


def test_remote_witness_client_conflict_and_verification(tmp_path: Path) -> None:
    tree = tree_of(entries(9))
    with client(tmp_path) as c:
        vkey = c.get("/key").text.strip()
        [(pinned, url)] = parse_witness_urls(f"{vkey}@{c.base_url}")
        remote = RemoteWitness(url, CosignatureVerifier.from_vkey(pinned))
        note = checkpoint_note(tree, 3)
        line = remote.cosign(None, note, [], 0, 0)  # type: ignore[arg-type]
        assert remote.known_size(None) == 3  # type: ignore[arg-type]
        signed = note + line.encode()
        verifier = CosignatureVerifier.from_vkey(pinned)
        with pytest.raises(CosignatureQuorumError):  # one witness is not a quorum of two
            verify_cosigned_checkpoint(signed, log_signer().verifier(), [verifier])
        verify_cosigned_checkpoint(signed, log_signer().verifier(), [verifier], min_witnesses=1)
        with pytest.raises(WitnessRefusal) as info:
            remote.cosign(None, checkpoint_note(tree, 9), [], 1, 0)  # type: ignore[arg-type]
        assert info.value.reason is RefusalReason.CONFLICT and info.value.known_size == 3
        # a key the operator did not pin: the returned line does not verify
        other = WitnessStore(tmp_path / "other").signer("w1.fulcrum.test").verifier()
        impostor = RemoteWitness(url, other)
        with pytest.raises(WitnessUnreachable):
            impostor.cosign(None, checkpoint_note(tree, 3), [], 3, 0)  # type: ignore[arg-type]


def test_parse_witness_urls() -> None:
    assert parse_witness_urls(" a+1+x@http://h:1/ ,") == [("a+1+x", "http://h:1")]
    with pytest.raises(ValueError):
        parse_witness_urls("a+1+x")
    with pytest.raises(ValueError):
        parse_witness_urls("a+1+x@ftp://h")
