"""Checkpoint bodies and signed checkpoints: format, forgery and wrong-key rejection."""

from __future__ import annotations

import pytest

from fulcrum.translog import (
    Checkpoint,
    CheckpointError,
    NoteError,
    NoteSigner,
    open_checkpoint,
    read_checkpoint,
    sign_checkpoint,
)

from .support import ORIGIN, checkpoint_note, log_signer, tree_of

pytestmark = pytest.mark.unit

ROOT = bytes(range(32))


def test_text_round_trip() -> None:
    cp = Checkpoint(ORIGIN, 12, ROOT, ("ext line",))
    assert cp.text() == f"{ORIGIN}\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next line\n"
    assert Checkpoint.from_text(cp.text()) == cp
    assert Checkpoint.from_text(Checkpoint(ORIGIN, 0, ROOT).text()).size == 0


@pytest.mark.parametrize(
    "text",
    [
        "origin\n12\n",
        "origin\n012\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "origin\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "origin\n１２\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "origin\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
        "origin\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        "origin\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
        "origin\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",
        "\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "origin\n18446744073709551616\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    ],
)
def test_bad_bodies(text: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.from_text(text)


def test_sign_and_open() -> None:
    tree = tree_of([b"a", b"b", b"c"])
    note = checkpoint_note(tree, 3)
    signed = open_checkpoint(note, log_signer().verifier())
    assert signed.checkpoint == Checkpoint(ORIGIN, 3, tree.root_hash())
    assert read_checkpoint(note, log_signer().verifier()).checkpoint.size == 3


def test_forged_checkpoints_are_refused() -> None:
    tree = tree_of([b"a", b"b", b"c"])
    verifier = log_signer().verifier()
    note = checkpoint_note(tree, 3)
    # Modified root hash under the real signature.
    other_root = Checkpoint(ORIGIN, 3, tree.root_hash(2)).text()
    forged = other_root.encode() + note[note.index(b"\n\n") + 1 :]
    with pytest.raises(NoteError):
        open_checkpoint(forged, verifier)
    # Modified size.
    with pytest.raises(NoteError):
        open_checkpoint(note.replace(b"\n3\n", b"\n4\n", 1), verifier)
    # Signed by a different key with the same name.
    impostor = NoteSigner(ORIGIN, log_signer(seed=9).signing_key)
    with pytest.raises(NoteError):
        open_checkpoint(checkpoint_note(tree, 3, impostor), verifier)
    with pytest.raises(CheckpointError):
        read_checkpoint(checkpoint_note(tree, 3, impostor), verifier)


def test_origin_must_match_log_key() -> None:
    signer = log_signer("other.log")
    with pytest.raises(CheckpointError):
        sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), signer)
    from fulcrum.translog import sign_note

    note = sign_note(Checkpoint(ORIGIN, 1, ROOT).text(), [signer])
    with pytest.raises(CheckpointError):
        open_checkpoint(note, signer.verifier())


def test_bad_checkpoint_values() -> None:
    with pytest.raises(CheckpointError):
        Checkpoint(ORIGIN, 1, b"short")
    with pytest.raises(CheckpointError):
        Checkpoint("", 1, ROOT)
    with pytest.raises(CheckpointError):
        Checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(CheckpointError):
        Checkpoint(ORIGIN, 1, ROOT, ("",))
