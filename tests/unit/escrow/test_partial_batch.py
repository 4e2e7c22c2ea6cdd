"""Large batches: one wrong D among many items is still caught and names its trustee."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools

import pytest

from fulcrum.escrow import (
    BadPartialError,
    DecryptionItem,
    EpochKeyBundle,
    TrusteePartial,
    combine_partials,
    create_escrow_field,
    issue_partials,
    lagrange_coefficients,
    run_dkg,
    verify_partial,
)
from fulcrum.escrow.partial import _coefficient_groups, combine_shared_points
from fulcrum.hazmat.ristretto import GROUP_ORDER, Point, base_mul, random_scalar, weighted_sum

from .support import sample_context, seeded_rng

pytestmark = pytest.mark.unit

RESULTS = run_dkg(5, 3, 7, rng=seeded_rng(b"batch"))
BUNDLE = EpochKeyBundle.from_dkg(RESULTS[0], valid_from=0, valid_until=10**12)
SHARES = {r.share.index: r.share for r in RESULTS}
REQ = b"batch-request"
COUNT = 120
KEYS = [hashlib.sha256(b"batch" + i.to_bytes(4, "big")).digest() for i in range(COUNT)]
ITEMS = [
    DecryptionItem(create_escrow_field(k, ctx, BUNDLE.group_key), ctx)
    for k, ctx in ((k, sample_context(msg_id=f"batch-{i:05d}")) for i, k in enumerate(KEYS))
]
PARTIALS = {j: issue_partials(SHARES[j], ITEMS, REQ, BUNDLE.group_key) for j in (1, 2, 4, 5)}


def _with(partial: TrusteePartial, index: int, replacement: object) -> TrusteePartial:
    ds = list(partial.partials)
    ds[index] = replacement  # type: ignore[call-overload]
    return dataclasses.replace(partial, partials=tuple(ds))


def test_honest_large_batch_opens_every_item() -> None:
    parts = [PARTIALS[j] for j in (1, 2, 4)]
    assert list(combine_partials(ITEMS, parts, BUNDLE, REQ)) == KEYS


@pytest.mark.parametrize("position", [0, 57, COUNT - 1])
def test_one_wrong_partial_in_a_large_batch_is_attributed(position: int) -> None:
    bad = _with(PARTIALS[4], position, base_mul(random_scalar()))
    assert not verify_partial(bad, ITEMS, BUNDLE, REQ)
    with pytest.raises(BadPartialError) as err:
        combine_partials(ITEMS, [PARTIALS[1], PARTIALS[2], bad, PARTIALS[5]], BUNDLE, REQ)
    assert err.value.trustee_indices == (4,)


def test_swapped_partials_and_two_cheaters_are_all_named() -> None:
    """D values that are each some x_j·R_i but for the wrong item fail the batch proof."""
    ds = list(PARTIALS[2].partials)
    ds[10], ds[11] = ds[11], ds[10]
    swapped = dataclasses.replace(PARTIALS[2], partials=tuple(ds))
    # Trustee 5 hands in trustee 1's correct D for one item: valid point, wrong share.
    borrowed = _with(PARTIALS[5], 90, PARTIALS[1].partials[90])
    with pytest.raises(BadPartialError) as err:
        combine_partials(ITEMS, [PARTIALS[1], swapped, PARTIALS[4], borrowed], BUNDLE, REQ)
    assert err.value.trustee_indices == (2, 5)


def test_combine_uses_the_lowest_t_indices_and_one_lagrange_set() -> None:
    shared = combine_shared_points([PARTIALS[5], PARTIALS[2], PARTIALS[1], PARTIALS[4]], 3, COUNT)
    again = combine_shared_points([PARTIALS[1], PARTIALS[2], PARTIALS[4]], 3, COUNT)
    assert shared == again
    other = combine_shared_points([PARTIALS[2], PARTIALS[4], PARTIALS[5]], 3, COUNT)
    assert other == shared  # any t honest trustees give the same S_i = r_i·Y


def _naive_shared(partials: list[TrusteePartial], count: int) -> tuple[Point, ...]:
    lambdas = lagrange_coefficients([p.trustee_index for p in partials])
    return tuple(
        weighted_sum(
            [lambdas[p.trustee_index] for p in partials], [p.partials[i] for p in partials]
        )
        for i in range(count)
    )


RANDOM_PARTIALS = {
    j: TrusteePartial(
        7,
        j,
        REQ,
        tuple(base_mul(random_scalar()) for _ in range(5)),
        random_scalar(),
        random_scalar(),
    )
    for j in range(1, 8)
}


@pytest.mark.parametrize(
    "subset",
    [s for t in (1, 2, 3, 4, 5) for s in itertools.combinations(range(1, 8), t)],
    ids=str,
)
def test_grouped_lagrange_combine_equals_the_plain_sum(subset: tuple[int, ...]) -> None:
    """Grouping coefficients equal up to sign never changes S_i (any t, any trustee set)."""
    chosen = [RANDOM_PARTIALS[j] for j in subset]
    assert combine_shared_points(chosen, len(subset), 5) == _naive_shared(chosen, 5)


def test_trustees_1_2_3_need_one_multiplication_per_item() -> None:
    lambdas = lagrange_coefficients([1, 2, 3])
    assert [lambdas[j].to_int() for j in (1, 2, 3)] == [3, GROUP_ORDER - 3, 1]
    groups = _coefficient_groups([lambdas[j] for j in (1, 2, 3)])
    assert sum(g.scale is not None for g in groups) == 1
