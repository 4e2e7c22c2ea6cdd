"""hash_to_scalars and weighted_sum equal the one-at-a-time operations they replace."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.ristretto import (
    Point,
    Scalar,
    base_mul,
    hash_to_scalar,
    hash_to_scalars,
    random_scalar,
    weighted_sum,
)

pytestmark = pytest.mark.unit


@settings(max_examples=40, deadline=None)
@given(
    label=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=20),
    fields=st.lists(st.binary(max_size=80), max_size=3),
    count=st.integers(min_value=0, max_value=5),
)
def test_hash_to_scalars_equals_a_loop_of_hash_to_scalar(
    label: str, fields: list[bytes], count: int
) -> None:
    expected = [hash_to_scalar(label, *fields, i.to_bytes(4, "big")) for i in range(count)]
    assert hash_to_scalars(label, fields, count) == expected


def test_hash_to_scalars_counter_is_past_the_first_word() -> None:
    many = hash_to_scalars("w", [b"seed"], 300)
    assert many[256] == hash_to_scalar("w", b"seed", (256).to_bytes(4, "big"))
    assert len({s.to_bytes() for s in many}) == 300


def _naive(scalars: list[Scalar], points: list[Point]) -> Point:
    acc = Point.identity()
    for s, p in zip(scalars, points, strict=True):
        acc = acc + p.mul(s)
    return acc


@pytest.mark.parametrize("count", [1, 2, 3, 17])
def test_weighted_sum_equals_the_naive_sum(count: int) -> None:
    scalars = [random_scalar() for _ in range(count)]
    points = [base_mul(random_scalar()) for _ in range(count)]
    assert weighted_sum(scalars, points) == _naive(scalars, points)


def test_weighted_sum_edge_cases() -> None:
    p, q = base_mul(random_scalar()), base_mul(random_scalar())
    one, zero = Scalar.from_int(1), Scalar.from_int(0)
    assert weighted_sum([], []).is_identity()
    assert weighted_sum([zero], [p]).is_identity()
    assert weighted_sum([zero, one], [p, q]) == q
    assert weighted_sum([one, Scalar.from_int(-1)], [p, p]).is_identity()
    assert weighted_sum([one, one], [p, q]) == p + q
    with pytest.raises(CryptoError):
        weighted_sum([one], [p, q])
