"""Fuzzing the parsers: junk in, only the package's typed errors out."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fulcrum.translog import (
    Checkpoint,
    CheckpointError,
    KeyFormatError,
    LogEntryError,
    NoteError,
    WitnessRefusal,
    WitnessState,
    encode_entry,
    open_note,
    parse_entry,
    verifier_from_vkey,
)
from fulcrum.translog.witness import Witness

from .entry_samples import samples
from .support import checkpoint_note, log_signer, tree_of, witness_signer

pytestmark = pytest.mark.unit

ENTRIES = [encode_entry(e) for e in samples()]
NOTE = checkpoint_note(tree_of([b"a", b"b", b"c"]), 3)
LOG = log_signer().verifier()
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mutate(data: bytes, draw: st.DataObject) -> bytes:
    ops = draw.draw(
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(0, 10**6), st.binary(max_size=4)), max_size=6
        )
    )
    buf = bytearray(data)
    for op, pos, chunk in ops:
        at = pos % (len(buf) + 1)
        if op == 0:
            buf[at:at] = chunk
        elif op == 1:
            del buf[at : at + len(chunk) + 1]
        elif op == 2 and buf:
            buf[at % len(buf)] ^= 1 << (pos % 8)
        else:
            buf[at : at + len(chunk)] = chunk
    return bytes(buf)


@FUZZ
@given(st.binary(max_size=300))
def test_parse_entry_random_bytes(data: bytes) -> None:
    with contextlib.suppress(LogEntryError):
        parse_entry(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@FUZZ
@given(st.sampled_from(samples()), st.dictionaries(st.text(max_size=12), json_values, max_size=3))
def test_parse_entry_field_junk(entry: object, junk: dict[str, object]) -> None:
    import json

    obj = {**entry.to_dict(), **junk}  # type: ignore[attr-defined]
    try:
        data = json.dumps(obj).encode()
    except ValueError:
        return
    try:
        parsed = parse_entry(data)
    except LogEntryError:
        return
    assert encode_entry(parsed) == data


@FUZZ
@given(st.sampled_from(ENTRIES), st.data())
def test_parse_entry_mutations(data: bytes, draw: st.DataObject) -> None:
    mutated = mutate(data, draw)
    try:
        entry = parse_entry(mutated)
    except LogEntryError:
        return
    assert encode_entry(entry) == mutated


@FUZZ
@given(st.binary(max_size=300))
def test_open_note_random_bytes(data: bytes) -> None:
    with contextlib.suppress(NoteError):
        open_note(data, [LOG])


@FUZZ
@given(st.data())
def test_open_note_and_checkpoint_mutations(draw: st.DataObject) -> None:
    mutated = mutate(NOTE, draw)
    try:
        note = open_note(mutated, [LOG])
    except NoteError:
        return
    with contextlib.suppress(CheckpointError):
        Checkpoint.from_text(note.text)


@FUZZ
@given(st.text(max_size=200))
def test_checkpoint_text_and_vkey_junk(text: str) -> None:
    with contextlib.suppress(CheckpointError):
        Checkpoint.from_text(text)
    with contextlib.suppress(KeyFormatError):
        verifier_from_vkey(text)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_witness_only_refuses(draw: st.DataObject) -> None:
    w = Witness(witness_signer(1), [LOG])
    mutated = mutate(NOTE, draw)
    proof = draw.draw(st.lists(st.binary(min_size=0, max_size=40), max_size=3))
    with contextlib.suppress(WitnessRefusal):
        w.cosign(WitnessState(), mutated, proof, 1)
