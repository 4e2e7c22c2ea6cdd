"""Parsers of untrusted bytes raise only their typed errors (hypothesis)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.matching import (
    AccountMatchingKey,
    BankError,
    BankManifest,
    ManifestError,
    MatchingParams,
    TagTable,
    VoucherBundle,
    VoucherFormatError,
    parse_hash_list,
)
from fulcrum.matching.custodian import Custodian
from fulcrum.matching.wire import (
    PayloadContents,
    parse_evaluation_request,
    parse_evaluation_response,
    payload_plain_bytes,
)

from .world import jpeg, make_world, sample

pytestmark = pytest.mark.unit
PARAMS = MatchingParams(epoch=3, lsh_seed=b"\x00" * 32, m=4, review_capacity=8)
FUZZ = settings(max_examples=300, deadline=None)


@FUZZ
@given(st.binary(max_size=600))
def test_bundle_parser_random_bytes(data: bytes) -> None:
    with contextlib.suppress(VoucherFormatError):
        VoucherBundle.from_bytes(data, PARAMS)


@pytest.fixture(scope="module")
def real_bundle() -> bytes:
    w = make_world()
    return w.send(jpeg(sample("astronaut")), AccountMatchingKey.generate())


@FUZZ
@given(st.data())
def test_bundle_parser_mutations(real_bundle: bytes, data: st.DataObject) -> None:
    params = make_world().manifest.params
    pos = data.draw(st.integers(0, 40))
    cut = data.draw(st.booleans())
    mutated = bytearray(real_bundle)
    if cut:
        mutated = mutated[: pos * 97]
    else:
        mutated[pos] ^= data.draw(st.integers(1, 255))
    try:
        parsed = VoucherBundle.from_bytes(bytes(mutated), params)
    except VoucherFormatError:
        return
    assert parsed.to_bytes() == bytes(mutated)  # whatever parses re-encodes identically


@FUZZ
@given(st.binary(max_size=300))
def test_evaluation_frames(data: bytes) -> None:
    for parse in (
        lambda: parse_evaluation_request(data, max_elements=4),
        lambda: parse_evaluation_response(data, epoch=0, n=1),
        lambda: PayloadContents.from_bytes(data, PARAMS),
        lambda: TagTable.from_bytes(data),
    ):
        with contextlib.suppress(VoucherFormatError):
            parse()


def test_payload_length_matches_layout() -> None:
    assert payload_plain_bytes(PARAMS) == 32 + 4 + 48 + 120 + 4 + 8 + 16


@FUZZ
@given(st.binary(max_size=400))
def test_manifest_and_hash_list_parsers(data: bytes) -> None:
    with contextlib.suppress(ManifestError):
        BankManifest.from_bytes(data)
    with contextlib.suppress(BankError):
        parse_hash_list(data.decode("utf-8", "replace"))


def test_evaluator_refuses_malformed_requests() -> None:
    ev = Custodian(
        b"\x01" * 32, __import__("fulcrum.hazmat.signing", fromlist=["x"]).SigningKey(b"\x02" * 32)
    ).evaluator(5, m=4)
    for bad in [
        b"",
        b"FMEQ" + bytes(10),
        b"FMEQ" + (5).to_bytes(8, "big") + (1).to_bytes(2, "big") + b"\xff" * 32,
    ]:
        with pytest.raises(VoucherFormatError):
            ev.evaluate_batch(bad)
    with pytest.raises(VoucherFormatError):  # too many elements
        ev.evaluate_batch(b"FMEQ" + (5).to_bytes(8, "big") + (9).to_bytes(2, "big") + bytes(32 * 9))
