"""Published escrow-field vectors: no drift, and the implementation reproduces them."""

from __future__ import annotations

import json

import pytest

from fulcrum.escrow import (
    EscrowContext,
    create_escrow_field,
    parse_escrow_field,
    verify_escrow_field,
    verify_escrow_proof,
)
from fulcrum.hazmat.ristretto import Point, Scalar

from .escrow_vectors import VECTOR_PATH, render

pytestmark = pytest.mark.unit

DATA = json.loads(VECTOR_PATH.read_text("utf-8"))


def test_committed_vectors_have_not_drifted() -> None:
    assert VECTOR_PATH.read_text("utf-8") == render(), (
        "tests/vectors/escrow-field-v1.json is stale: the construction changed. If that is "
        "intended, regenerate with `python -m tests.unit.escrow.escrow_vectors` "
        "and bump the version"
    )


@pytest.mark.parametrize("vec", DATA["vectors"], ids=lambda v: v["name"])
def test_implementation_reproduces_vector(vec: dict[str, str]) -> None:
    ctx = EscrowContext.from_bytes(vec["ctx"].encode())
    y = Point.from_bytes(bytes.fromhex(vec["epoch_key"]))
    k_m = bytes.fromhex(vec["content_key"])
    field = create_escrow_field(k_m, ctx, y)
    assert field.to_bytes().hex() == vec["escrow_field"]
    assert field.R.to_bytes().hex() == vec["R"]
    assert field.W.hex() == vec["W"]
    assert verify_escrow_field(bytes.fromhex(vec["escrow_field"]), k_m, ctx, y)
    assert verify_escrow_proof(bytes.fromhex(vec["escrow_field"]), ctx, y)
    x = Scalar.from_bytes(bytes.fromhex(vec["trustee_secret"]))
    parsed = parse_escrow_field(bytes.fromhex(vec["escrow_field"]))
    assert parsed.R.mul(x).to_bytes().hex() == vec["S"]
