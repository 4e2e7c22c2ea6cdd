"""C2SP signed notes against the golang.org/x/mod/sumdb/note vectors (TestSign, 16 Open cases)."""

from __future__ import annotations

from typing import Any

import pytest

from fulcrum.translog import (
    AmbiguousKeyError,
    Checkpoint,
    InvalidNoteSignatureError,
    KeyFormatError,
    MalformedNoteError,
    NoteSigner,
    UnverifiedNoteError,
    open_note,
    sign_note,
    verifier_from_vkey,
)
from fulcrum.translog.note import NoteSignature

from .support import load_vectors

pytestmark = pytest.mark.unit

V = load_vectors("signed-note.json")
KEYS = {k["name"]: k for k in V["keys"]}
VERIFIERS = {name: verifier_from_vkey(k["verifier_key"]) for name, k in KEYS.items()}


def _sigs(expected: list[dict[str, str]]) -> list[tuple[str, int, str]]:
    return [(s["name"], int(s["key_id"], 16), s["signature"]) for s in expected]


def _tuples(sigs: tuple[NoteSignature, ...]) -> list[tuple[str, int, str]]:
    return [(s.name, s.key_id, s.base64) for s in sigs]


@pytest.mark.parametrize("name", sorted(KEYS))
def test_verifier_keys(name: str) -> None:
    k = KEYS[name]
    v = VERIFIERS[name]
    assert v.name == name
    assert f"{v.key_id:08x}" == k["key_id"]
    assert v.vkey == k["verifier_key"]


def test_signer_key_and_sign() -> None:
    signer = NoteSigner.from_skey(KEYS["PeterNeumann"]["signer_key"])
    assert signer.verifier().vkey == KEYS["PeterNeumann"]["verifier_key"]
    assert "PRIVATE" not in repr(signer)
    assert "AYEK" not in repr(signer)
    signed = sign_note(V["sign"]["text"], [signer])
    assert signed == V["sign"]["signed_note"].encode()


@pytest.mark.parametrize("case", V["invalid_verifier_keys"], ids=lambda c: c["why"])
def test_invalid_verifier_keys(case: dict[str, Any]) -> None:
    with pytest.raises(KeyFormatError):
        verifier_from_vkey(case["key"])


@pytest.mark.parametrize("name", sorted(KEYS))
def test_every_proper_prefix_and_increment_of_vkey_is_rejected(name: str) -> None:
    vkey = KEYS[name]["verifier_key"]
    for i in range(len(vkey)):
        with pytest.raises(KeyFormatError):
            verifier_from_vkey(vkey[:i])
    for i in range(len(vkey)):
        bumped = vkey[:i] + chr(ord(vkey[i]) + 1) + vkey[i + 1 :]
        with pytest.raises(KeyFormatError):
            verifier_from_vkey(bumped)


@pytest.mark.parametrize("case", V["open"], ids=lambda c: c["desc"])
def test_open(case: dict[str, Any]) -> None:
    msg = bytes.fromhex(case["note_hex"])
    known = [VERIFIERS[n] for n in case["verifiers"]]
    error = case.get("error")
    if error is None:
        note = open_note(msg, known)
        assert note.text == case["text"]
        assert _tuples(note.signatures) == _sigs(case["verified"])
        assert _tuples(note.unverified) == _sigs(case["unverified"])
        return
    expected = {
        "malformed note": MalformedNoteError,
        "note has no verifiable signatures": UnverifiedNoteError,
    }.get(error)
    if expected is None:
        expected = AmbiguousKeyError if error.startswith("ambiguous") else InvalidNoteSignatureError
    with pytest.raises(expected) as info:
        open_note(msg, known)
    assert str(info.value) == error
    if isinstance(info.value, UnverifiedNoteError):
        assert _tuples(info.value.unverified) == _sigs(case["unverified"])  # type: ignore[arg-type]


def test_open_case_count() -> None:
    assert len(V["open"]) == 16


@pytest.mark.parametrize("case", V["format_examples_unverifiable"], ids=lambda c: c["source"])
def test_format_examples_parse(case: dict[str, Any]) -> None:
    with pytest.raises(UnverifiedNoteError) as info:
        open_note(case["note"].encode(), [])
    assert len(info.value.unverified) == 1
    if "tlog-checkpoint" in case["source"]:
        text = case["note"].rsplit("\n\n", 1)[0] + "\n"
        cp = Checkpoint.from_text(text)
        assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
        assert cp.text() == text


def test_sign_keeps_other_signatures_and_round_trips() -> None:
    peter = NoteSigner.from_skey(KEYS["PeterNeumann"]["signer_key"])
    other = NoteSigner.generate("other.example")
    first = sign_note("hello\n", [other])
    opened = open_note(first, [other.verifier()])
    both = sign_note(opened.text, [peter], existing=opened.signatures)
    note = open_note(both, [VERIFIERS["PeterNeumann"], other.verifier()])
    assert [s.name for s in note.signatures] == ["PeterNeumann", "other.example"]


@pytest.mark.parametrize("text", ["no newline", "ctl\x01char\n", ""])
def test_sign_rejects_bad_text(text: str) -> None:
    with pytest.raises(MalformedNoteError):
        sign_note(text, [NoteSigner.generate("k")])
