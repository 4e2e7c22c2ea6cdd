"""The transparency log service and its HTTP endpoints, checked with the translog verifiers."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete, update

from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.encoding import b64d
from fulcrum.server.translog import CheckpointRefused, TransparencyLog
from fulcrum.store.translog import TranslogEntry, TranslogSubtree
from fulcrum.translog import (
    CosignatureVerifier,
    FindingKind,
    FrankingKeyRotated,
    RefusalReason,
    audit_log,
    leaf_hash,
    verifier_from_vkey,
    verify_consistency,
    verify_cosigned_checkpoint,
    verify_inclusion,
)

pytestmark = pytest.mark.integration


def entry(i: int) -> FrankingKeyRotated:
    return FrankingKeyRotated(
        time=1_700_000_000 + i, key_id=f"k{i}", key_commitment=bytes([i % 256]) * 32, valid_from=i
    )


def service(srv: EmbeddedServer) -> TransparencyLog:
    log = srv.app.state.fulcrum.features["translog"]
    assert isinstance(log, TransparencyLog)
    return log


def test_append_and_proofs_over_http(log_server: EmbeddedServer) -> None:
    log = service(log_server)
    base = log_server.url + "/v1/log"
    with httpx.Client() as http:
        keys = http.get(base + "/keys").json()
        log_v = verifier_from_vkey(keys["log_vkey"])
        witnesses = [CosignatureVerifier.from_vkey(v) for v in keys["witness_vkeys"]]
        assert len(witnesses) >= 3
        for i in range(5):
            assert log.append(entry(i)) == i
        first = http.get(base + "/checkpoint").text.encode()
        cp1 = verify_cosigned_checkpoint(first, log_v, witnesses, 3).checkpoint
        assert cp1.size == 5
        for i in range(5, 13):
            log.append(entry(i))
        second = http.get(base + "/checkpoint").text.encode()
        cp2 = verify_cosigned_checkpoint(second, log_v, witnesses, 2).checkpoint
        assert cp2.size == 13
        entries = [b64d(e) for e in http.get(base + "/entries?start=0&end=100").json()["entries"]]
        assert entries[3] == entry(3).encode() and len(entries) == 13
        for index in (0, 6, 12):
            got = http.get(base + f"/proof/inclusion?index={index}&size=13").json()
            assert b64d(got["leaf_hash"]) == leaf_hash(entries[index])
            verify_inclusion(
                leaf_hash(entries[index]), index, 13, [b64d(p) for p in got["proof"]], cp2.root_hash
            )
        cons = http.get(base + "/proof/consistency?from=5&to=13").json()
        verify_consistency(5, 13, [b64d(p) for p in cons["proof"]], cp1.root_hash, cp2.root_hash)
        bad = http.get(base + "/proof/inclusion?index=13&size=13")
        assert bad.status_code == 422
    report = audit_log(log_v, [first, second], entries, witnesses)
    assert report.ok and report.entries == 13


def test_crash_mid_append_leaves_log_consistent(log_server: EmbeddedServer) -> None:
    log = service(log_server)
    for i in range(3):
        log.append(entry(i))
    before = log.checkpoint()

    class Crash(Exception):
        pass

    def crashing_append() -> None:
        with log.db.write() as session:
            log.append_in(session, entry(3))
            raise Crash  # the process dies after the rows were written, before commit

    with pytest.raises(Crash):
        crashing_append()
    assert log.size() == 3
    assert log.append(entry(4)) == 3  # the next append takes the free index
    after = log.checkpoint()
    verify_consistency(3, 4, log.consistency_proof(3, 4), before.root_hash, after.root_hash)
    entries = log.entries(0, 4)
    report = audit_log(log.verifier, [before.note, after.note], entries, log.witness_verifiers())
    assert report.ok


def test_tampered_row_is_found_by_audit(log_server: EmbeddedServer) -> None:
    log = service(log_server)
    for i in range(6):
        log.append(entry(i))
    note = log.checkpoint().note
    with log.db.write() as session:
        session.execute(
            update(TranslogEntry).where(TranslogEntry.idx == 2).values(entry=entry(99).encode())
        )
    report = audit_log(log.verifier, [note], log.entries(0, 6), log.witness_verifiers())
    assert FindingKind.ROOT_MISMATCH in {f.kind for f in report.findings}
    assert not report.ok


def test_witnesses_refuse_a_rewritten_history(log_server: EmbeddedServer) -> None:
    log = service(log_server)
    for i in range(4):
        log.append(entry(i))
    log.checkpoint()
    # The operator rewrites entry 3 (and its subtree rows) to show a different history.
    with log.db.write() as session:
        session.execute(delete(TranslogEntry).where(TranslogEntry.idx >= 3))
        session.execute(
            delete(TranslogSubtree).where(
                (TranslogSubtree.level == 0) & (TranslogSubtree.idx >= 3)
                | (TranslogSubtree.level == 1) & (TranslogSubtree.idx >= 1)
                | (TranslogSubtree.level == 2)
            )
        )
    log.append(entry(50))
    with pytest.raises(CheckpointRefused) as refused:
        log.checkpoint()
    assert {r.reason for r in refused.value.refusals} == {RefusalReason.SPLIT_VIEW}
    log.append(entry(51))  # growing the forked tree does not help either
    with pytest.raises(CheckpointRefused) as again:
        log.checkpoint()
    assert {r.reason for r in again.value.refusals} == {RefusalReason.INCONSISTENT}


def test_keys_survive_a_restart(log_server: EmbeddedServer, tmp_path: object) -> None:
    log = service(log_server)
    log.append(entry(0))
    note = log.checkpoint().note
    log_server.stop()
    again = EmbeddedServer(log_server.settings.data_dir, roles=("relay", "log")).start()
    try:
        log2 = service(again)
        assert log2.verifier == log.verifier
        assert log2.witness_verifiers() == log.witness_verifiers()
        log2.append(entry(1))
        verify_cosigned_checkpoint(log2.checkpoint().note, log2.verifier, log2.witness_verifiers())
        assert note != log2.checkpoint().note
    finally:
        again.stop()
