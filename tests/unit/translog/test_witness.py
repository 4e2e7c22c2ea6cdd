"""Witness cosigning: append-only histories only; split views, rollbacks and forgeries refused."""

from __future__ import annotations

import base64

import pytest

from fulcrum.translog import (
    CheckpointError,
    CosignatureQuorumError,
    CosignatureVerifier,
    InMemoryTree,
    NoteError,
    RefusalReason,
    TranslogError,
    Witness,
    WitnessRefusal,
    WitnessState,
    add_signatures,
    open_note,
    verify_cosigned_checkpoint,
)
from fulcrum.translog.witness import cosignature_timestamp

from .support import ORIGIN, checkpoint_note, log_signer, tree_of, witness_signer

pytestmark = pytest.mark.unit

NOW = 1_700_000_000


def entries(n: int, tag: bytes = b"e") -> list[bytes]:
    return [tag + i.to_bytes(4, "big") for i in range(n)]


def witness(n: int = 1) -> Witness:
    return Witness(witness_signer(n), [log_signer().verifier()])


def test_cosign_sequence_and_state_persistence() -> None:
    tree = tree_of(entries(20))
    w = witness()
    state = WitnessState()
    first = w.cosign(state, checkpoint_note(tree, 5), [], NOW)
    assert first.state.head(ORIGIN) is not None
    second = w.cosign(first.state, checkpoint_note(tree, 20), tree.consistency_proof(5, 20), NOW)
    head = second.state.head(ORIGIN)
    assert head is not None
    assert (head.size, head.root_hash) == (20, tree.root_hash())
    restored = WitnessState.from_bytes(second.state.to_bytes())
    assert restored == second.state
    again = w.cosign(restored, checkpoint_note(tree, 20), [], NOW + 5)
    assert cosignature_timestamp(again.signature) == NOW + 5


def test_cosignature_format_is_c2sp_cosignature_v1() -> None:
    tree = tree_of(entries(3))
    w = witness()
    note = checkpoint_note(tree, 3)
    sig = w.cosign(WitnessState(), note, [], NOW).signature
    raw = sig.signature
    assert len(raw) == 72
    assert int.from_bytes(raw[:8], "big") == NOW
    msg = b"cosignature/v1\ntime %d\n" % NOW + note[: note.index(b"\n\n") + 1]
    w.signer.signing_key.public_key().verify(raw[8:], msg)
    vkey = w.signer.verifier().vkey
    assert CosignatureVerifier.from_vkey(vkey) == w.signer.verifier()
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04  # cosignature/v1 key type
    cosigned = add_signatures(note, [sig])
    opened = open_note(cosigned, [w.signer.verifier()])
    assert opened.signatures == (sig,)


def test_split_view_refused() -> None:
    honest = tree_of(entries(10))
    forked = tree_of(entries(10, b"x"))
    w = witness()
    state = w.cosign(WitnessState(), checkpoint_note(honest, 10), [], NOW).state
    with pytest.raises(WitnessRefusal) as info:
        w.cosign(state, checkpoint_note(forked, 10), [], NOW)
    assert info.value.reason is RefusalReason.SPLIT_VIEW


def test_inconsistent_growth_refused() -> None:
    honest = tree_of(entries(10))
    rewritten = tree_of([b"evil", *entries(13)[1:]])
    w = witness()
    state = w.cosign(WitnessState(), checkpoint_note(honest, 10), [], NOW).state
    for proof in (rewritten.consistency_proof(10, 13), honest.consistency_proof(3, 10), []):
        with pytest.raises(WitnessRefusal) as info:
            w.cosign(state, checkpoint_note(rewritten, 13), proof, NOW)
        assert info.value.reason is RefusalReason.INCONSISTENT
        assert info.value.known_size == 10


def test_rollback_refused() -> None:
    tree = tree_of(entries(10))
    w = witness()
    state = w.cosign(WitnessState(), checkpoint_note(tree, 10), [], NOW).state
    with pytest.raises(WitnessRefusal) as info:
        w.cosign(state, checkpoint_note(tree, 9), [], NOW)
    assert info.value.reason is RefusalReason.ROLLBACK


def test_forged_or_unknown_log_refused() -> None:
    tree = tree_of(entries(4))
    w = witness()
    impostor = log_signer(seed=7)
    with pytest.raises(WitnessRefusal) as info:
        w.cosign(WitnessState(), checkpoint_note(tree, 4, impostor), [], NOW)
    assert info.value.reason is RefusalReason.BAD_LOG_SIGNATURE
    stranger = log_signer("stranger.log", seed=8)
    with pytest.raises(WitnessRefusal) as info:
        w.cosign(WitnessState(), checkpoint_note(tree, 4, stranger), [], NOW)
    assert info.value.reason is RefusalReason.UNKNOWN_LOG
    note = checkpoint_note(tree, 4)
    tampered = note.replace(b"\n4\n", b"\n5\n", 1)
    with pytest.raises(WitnessRefusal) as info:
        w.cosign(WitnessState(), tampered, [], NOW)
    assert info.value.reason is RefusalReason.BAD_LOG_SIGNATURE
    with pytest.raises(WitnessRefusal) as info:
        w.cosign(WitnessState(), note[:-1], [], NOW)
    assert info.value.reason is RefusalReason.MALFORMED


def test_conflict_and_time_rules() -> None:
    tree = tree_of(entries(8))
    w = witness()
    state = w.cosign(WitnessState(), checkpoint_note(tree, 4), [], NOW).state
    with pytest.raises(WitnessRefusal) as info:
        w.cosign(state, checkpoint_note(tree, 8), tree.consistency_proof(2, 8), NOW, old_size=2)
    assert info.value.reason is RefusalReason.CONFLICT
    assert info.value.known_size == 4
    with pytest.raises(WitnessRefusal) as info:
        w.cosign(state, checkpoint_note(tree, 8), tree.consistency_proof(4, 8), NOW - 1)
    assert info.value.reason is RefusalReason.STALE_TIME
    ok = w.cosign(state, checkpoint_note(tree, 8), tree.consistency_proof(4, 8), NOW, old_size=4)
    assert ok.checkpoint.size == 8


def test_never_cosigns_two_inconsistent_checkpoints() -> None:
    """Whatever order a malicious log presents two forks in, at most one side gets cosigned."""
    a, b = tree_of(entries(12)), tree_of(entries(6) + entries(6, b"y"))
    notes = [(a, 7), (b, 9), (a, 12), (b, 12), (b, 10), (a, 9)]
    w = witness()
    state = WitnessState()
    cosigned_roots = []
    for tree, size in notes:
        head = state.head(ORIGIN)
        proof = tree.consistency_proof(head.size, size) if head and head.size <= size else []
        try:
            result = w.cosign(state, checkpoint_note(tree, size), proof, NOW)
        except WitnessRefusal:
            continue
        state = result.state
        cosigned_roots.append((tree is a, size))
    assert len({side for side, _ in cosigned_roots}) == 1


def quorum_note(tree: InMemoryTree, size: int, witnesses: list[int]) -> bytes:
    note = checkpoint_note(tree, size)
    sigs = [witness(n).cosign(WitnessState(), note, [], NOW + n).signature for n in witnesses]
    return add_signatures(note, sigs)


def test_verify_cosigned_checkpoint_quorum() -> None:
    tree = tree_of(entries(5))
    log = log_signer().verifier()
    all3 = [witness_signer(n).verifier() for n in (1, 2, 3)]
    got = verify_cosigned_checkpoint(quorum_note(tree, 5, [1, 3]), log, all3)
    assert got.checkpoint.size == 5
    assert set(got.witnesses) == {
        "witness1.fulcrum.test",
        "witness3.fulcrum.test",
    }
    assert sorted(got.timestamps) == [NOW + 1, NOW + 3]
    with pytest.raises(CosignatureQuorumError):
        verify_cosigned_checkpoint(quorum_note(tree, 5, [2]), log, all3)
    # A cosignature by a witness we do not trust does not count.
    with pytest.raises(CosignatureQuorumError):
        verify_cosigned_checkpoint(quorum_note(tree, 5, [1, 4]), log, all3)
    # Duplicate lines of one witness count once.
    note = quorum_note(tree, 5, [1])
    sig = witness(1).cosign(WitnessState(), checkpoint_note(tree, 5), [], NOW + 9).signature
    with pytest.raises(CheckpointError):
        verify_cosigned_checkpoint(add_signatures(note, [sig]), log, all3)


def test_cosignature_moved_to_other_checkpoint_is_rejected() -> None:
    tree = tree_of(entries(6))
    good = quorum_note(tree, 5, [1, 2])
    sigs = good[good.index(b"\n\n") + 2 :].split(b"\n")[1:]
    other = checkpoint_note(tree, 6) + b"\n".join(sigs)
    all3 = [witness_signer(n).verifier() for n in (1, 2, 3)]
    with pytest.raises(NoteError):
        verify_cosigned_checkpoint(other, log_signer().verifier(), all3)


@pytest.mark.parametrize(
    "data",
    [b"", b"[]", b'{"o":{}}', b'{"o":{"size":-1,"root_hash":"","timestamp":0}}', b'{"o":1}'],
)
def test_witness_state_junk(data: bytes) -> None:
    with pytest.raises(TranslogError):
        WitnessState.from_bytes(data)


def test_signer_reprs_hide_keys() -> None:
    signer = witness_signer(1)
    assert signer.signing_key.seed.hex() not in repr(signer)
    assert repr(signer).startswith("CosignatureSigner(witness1.fulcrum.test+")
    assert signer.signing_key.seed.hex() not in repr(log_signer())
