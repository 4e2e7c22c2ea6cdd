"""Threshold opening: partials with batched DLEQ proofs, attribution, replay, share destruction."""

from __future__ import annotations

import dataclasses
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.escrow import (
    BadPartialError,
    DecryptionItem,
    EpochKeyBundle,
    EscrowError,
    EscrowFieldError,
    EscrowOpenError,
    EscrowProofError,
    InsufficientPartialsError,
    OutOfScopeError,
    ShareDestroyedError,
    TrusteePartial,
    TrusteeShareStore,
    combine_partials,
    combine_two_groups,
    create_escrow_field,
    issue_partials,
    joint_epoch_key,
    run_dkg,
    verify_escrow_field,
    verify_partial,
)
from fulcrum.hazmat.ristretto import Point, Scalar, base_mul, random_scalar

from .support import sample_context, seeded_rng

pytestmark = pytest.mark.unit

RESULTS = run_dkg(5, 3, 7, rng=seeded_rng(b"partial"))
BUNDLE = EpochKeyBundle.from_dkg(RESULTS[0], valid_from=0, valid_until=10**12)
Y = BUNDLE.group_key
SHARES = {r.share.index: r.share for r in RESULTS}
REQ = b"log-entry-hash-of-DecryptionRequested-0001"


def make_items(
    count: int, y: Point = Y, epoch: int = 7
) -> tuple[list[DecryptionItem], list[bytes]]:
    items, keys = [], []
    for i in range(count):
        ctx = sample_context(epoch=epoch, msg_id=f"msg-{i:018d}")
        k_m = os.urandom(32)
        items.append(DecryptionItem(create_escrow_field(k_m, ctx, y), ctx))
        keys.append(k_m)
    return items, keys


ITEMS, K_MS = make_items(4)


def partials_from(
    indices: tuple[int, ...], items: list[DecryptionItem] = ITEMS
) -> list[TrusteePartial]:
    return [issue_partials(SHARES[j], items, REQ, Y) for j in indices]


def test_any_t_partials_recover_every_content_key() -> None:
    for subset in ((1, 2, 3), (2, 4, 5), (5, 1, 3), (1, 2, 3, 4, 5)):
        assert list(combine_partials(ITEMS, partials_from(subset), BUNDLE, REQ)) == K_MS


def test_single_item_request() -> None:
    items, keys = make_items(1)
    assert list(combine_partials(items, partials_from((1, 4, 5), items), BUNDLE, REQ)) == keys


def test_t_minus_1_partials_fail() -> None:
    with pytest.raises(InsufficientPartialsError):
        combine_partials(ITEMS, partials_from((1, 2)), BUNDLE, REQ)


def test_t_minus_1_partials_do_not_reveal_the_key_even_if_combined() -> None:
    """Interpolating two partials as if t were 2 gives a wrong S and W does not open."""
    two = dataclasses.replace(BUNDLE, threshold=2)
    with pytest.raises(EscrowOpenError):
        combine_partials(ITEMS, partials_from((1, 2)), two, REQ)


def test_bad_partial_detected_and_attributed() -> None:
    good = partials_from((1, 2, 3, 4))
    wrong = list(good[2].partials)
    wrong[1] = base_mul(random_scalar())
    bad = dataclasses.replace(good[2], partials=tuple(wrong))
    with pytest.raises(BadPartialError) as info:
        combine_partials(ITEMS, [good[0], good[1], bad, good[3]], BUNDLE, REQ)
    assert info.value.trustee_indices == (3,)
    assert "3" in str(info.value)
    # the honest ones still combine
    assert list(combine_partials(ITEMS, [good[0], good[1], good[3]], BUNDLE, REQ)) == K_MS


def test_forged_proof_attributed() -> None:
    good = partials_from((1, 2, 3))
    forged = dataclasses.replace(good[0], response=good[0].response + Scalar.from_int(1))
    with pytest.raises(BadPartialError) as info:
        combine_partials(ITEMS, [forged, good[1], good[2]], BUNDLE, REQ)
    assert info.value.trustee_indices == (1,)


def test_partial_claiming_another_trustee_index_rejected() -> None:
    p = partials_from((1,))[0]
    with pytest.raises(BadPartialError) as info:
        combine_partials(
            ITEMS, [dataclasses.replace(p, trustee_index=4), *partials_from((2, 3))], BUNDLE, REQ
        )
    assert info.value.trustee_indices == (4,)


def test_replayed_proof_for_another_request_rejected() -> None:
    parts = partials_from((1, 2, 3))
    other = b"another-request"
    assert not verify_partial(parts[0], ITEMS, BUNDLE, other)
    relabelled = [dataclasses.replace(p, request_id=other) for p in parts]
    with pytest.raises(BadPartialError) as info:
        combine_partials(ITEMS, relabelled, BUNDLE, other)
    assert info.value.trustee_indices == (1, 2, 3)


def test_partials_for_other_items_rejected() -> None:
    parts = partials_from((1, 2, 3))
    other_items, _ = make_items(4)
    with pytest.raises(BadPartialError):
        combine_partials(other_items, parts, BUNDLE, REQ)
    reordered = [ITEMS[1], ITEMS[0], *ITEMS[2:]]
    with pytest.raises(BadPartialError):
        combine_partials(reordered, parts, BUNDLE, REQ)
    with pytest.raises(BadPartialError):
        combine_partials(ITEMS[:3], parts, BUNDLE, REQ)


def test_duplicate_trustee_rejected() -> None:
    p = partials_from((1, 2))
    with pytest.raises(EscrowError):
        combine_partials(ITEMS, [p[0], p[0], p[1]], BUNDLE, REQ)


def test_trustee_refuses_item_with_r_reused_under_another_context() -> None:
    lifted = DecryptionItem(ITEMS[0].field, sample_context(sender="someone-in-scope"))
    with pytest.raises(EscrowProofError, match="item 1"):
        issue_partials(SHARES[1], [ITEMS[1], lifted], REQ, Y)


def test_trustee_refuses_out_of_scope_and_other_epoch_items() -> None:
    with pytest.raises(OutOfScopeError) as info:
        issue_partials(SHARES[1], ITEMS, REQ, Y, in_scope=lambda c: c.msg_id != ITEMS[2].ctx.msg_id)
    assert info.value.item_index == 2
    other_epoch, _ = make_items(1, epoch=8)
    with pytest.raises(EscrowProofError):
        issue_partials(SHARES[1], other_epoch, REQ, Y)
    with pytest.raises(EscrowError):
        issue_partials(SHARES[1], [], REQ, Y)
    with pytest.raises(EscrowError):
        issue_partials(SHARES[1], ITEMS, b"", Y)


def test_decryption_impossible_after_share_destruction() -> None:
    stores = {}
    for j, share in SHARES.items():
        stores[j] = TrusteeShareStore()
        stores[j].add(share)
    for j in (1, 2, 3):
        stores[j].destroy(7)
        assert stores[j].is_destroyed(7)
        with pytest.raises(ShareDestroyedError):
            stores[j].share(7)
        with pytest.raises(EscrowError):
            stores[j].add(SHARES[j])  # a destroyed epoch cannot be re-imported
    remaining = [issue_partials(stores[j].share(7), ITEMS, REQ, Y) for j in (4, 5)]
    with pytest.raises(InsufficientPartialsError):
        combine_partials(ITEMS, remaining, BUNDLE, REQ)
    assert stores[4].epochs() == (7,)
    assert stores[1].epochs() == ()
    assert SHARES[1].secret.to_bytes().hex() not in repr(stores[4]) + repr(SHARES[1])


def test_partial_wire_round_trip() -> None:
    p = partials_from((2,))[0]
    assert TrusteePartial.from_bytes(p.to_bytes()) == p
    raw = p.to_bytes()
    for bad in (raw[:-1], raw[: 4 + len(REQ) + 9 + 64], raw[:-32] + bytes(32), b"\0" * 4):
        with pytest.raises(EscrowFieldError):
            TrusteePartial.from_bytes(bad)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_fuzz_partial_parser(data: bytes) -> None:
    try:
        p = TrusteePartial.from_bytes(data)
    except EscrowFieldError:
        return
    assert p.to_bytes() == data


def test_two_trustee_groups_must_both_answer() -> None:
    group_b = run_dkg(3, 2, 7, rng=seeded_rng(b"group-b"))
    bundle_b = EpochKeyBundle.from_dkg(group_b[0], valid_from=0, valid_until=10**12)
    joint = joint_epoch_key(BUNDLE, bundle_b)
    items, keys = make_items(2, y=joint)
    assert verify_escrow_field(items[0].field.to_bytes(), keys[0], items[0].ctx, joint)
    parts_a = [issue_partials(SHARES[j], items, REQ, joint) for j in (1, 3, 5)]
    parts_b = [issue_partials(r.share, items, REQ, joint) for r in group_b[:2]]
    assert list(combine_two_groups(items, parts_a, BUNDLE, parts_b, bundle_b, REQ)) == keys
    with pytest.raises(EscrowOpenError):  # group A alone cannot open
        combine_partials(items, parts_a, BUNDLE, REQ)
    with pytest.raises(InsufficientPartialsError):
        combine_two_groups(items, parts_a, BUNDLE, parts_b[:1], bundle_b, REQ)
