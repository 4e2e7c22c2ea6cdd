"""Trustee DKG: honest runs, cheating dealers (bad share, bad reveal, withheld messages)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.escrow import (
    Complaint,
    ComplaintResponse,
    DealerCommitment,
    DealerReveal,
    DealerShare,
    DkgError,
    DkgMessage,
    DkgParameters,
    DkgParticipant,
    DkgResult,
    decode_dkg_message,
    encode_dkg_message,
    lagrange_coefficients,
    run_dkg,
)
from fulcrum.hazmat.ristretto import Point, Scalar, base_mul, random_scalar

from .support import seeded_rng

pytestmark = pytest.mark.unit


def drive(
    n: int = 5,
    t: int = 3,
    *,
    commit: Callable[[DealerCommitment], DealerCommitment | None] = lambda m: m,
    reveal: Callable[[DealerReveal], DealerReveal | None] = lambda m: m,
    share: Callable[[DealerShare], DealerShare | None] = lambda m: m,
    respond: Callable[[ComplaintResponse], ComplaintResponse | None] = lambda m: m,
    extra_complaints: tuple[Complaint, ...] = (),
    seed: bytes = b"dkg",
) -> tuple[DkgResult, ...]:
    """Run the DKG in-process, passing each message through a hook (None = never delivered)."""
    params = DkgParameters(epoch=3, n=n, t=t)
    ps = [DkgParticipant(params, i, seeded_rng(seed + bytes([i]))) for i in range(1, n + 1)]
    commits = [commit(p.commitment()) for p in ps]
    for p in ps:
        for c in commits:
            if c is not None and c.dealer != p.index:
                p.receive_commitment(c)
    outs = [p.reveal() for p in ps]
    for p in ps:
        for rev, shares in outs:
            r = reveal(rev)
            if r is not None and r.dealer != p.index:
                p.receive_reveal(r)
            for s in shares:
                delivered = share(s)
                if delivered is not None and s.recipient == p.index:
                    p.receive_share(delivered)
    complaints = [c for p in ps for c in p.complaints()] + list(extra_complaints)
    for p in ps:
        for complaint in complaints:
            p.receive_complaint(complaint)
    responses = [r for p in ps for r in p.responses()]
    for p in ps:
        for resp in responses:
            answered = respond(resp)
            if answered is not None:
                p.receive_response(answered)
    return tuple(p.finish() for p in ps)


def assert_consistent(results: tuple[DkgResult, ...]) -> None:
    first = results[0]
    for r in results:
        assert r.group_key == first.group_key
        assert r.verification_keys == first.verification_keys
        assert r.transcript_hash == first.transcript_hash
        assert r.qualified == first.qualified
        assert r.disqualified == first.disqualified
        assert base_mul(r.share.secret) == r.verification_keys[r.share.index - 1]
    # any t shares reconstruct the (never materialised) group secret
    t = first.t
    for subset in (results[:t], results[-t:]):
        lambdas = lagrange_coefficients([r.share.index for r in subset])
        secret = Scalar.from_int(0)
        for r in subset:
            secret = secret + lambdas[r.share.index] * r.share.secret
        assert base_mul(secret) == first.group_key
    # t-1 shares do not
    lambdas = lagrange_coefficients([r.share.index for r in results[: t - 1]])
    partial = Scalar.from_int(0)
    for r in results[: t - 1]:
        partial = partial + lambdas[r.share.index] * r.share.secret
    assert base_mul(partial) != first.group_key


def test_honest_run() -> None:
    results = drive()
    assert_consistent(results)
    assert results[0].qualified == (1, 2, 3, 4, 5)
    assert results[0].disqualified == ()


def test_run_dkg_is_deterministic_given_rng_and_random_otherwise() -> None:
    a = run_dkg(5, 3, 9, rng=seeded_rng(b"x"))
    b = run_dkg(5, 3, 9, rng=seeded_rng(b"x"))
    assert a[0].group_key == b[0].group_key
    assert a[0].transcript_hash == b[0].transcript_hash
    assert_consistent(a)
    assert run_dkg(5, 3, 9)[0].group_key != a[0].group_key


@pytest.mark.parametrize(("n", "t"), [(1, 1), (3, 1), (3, 3), (7, 4)])
def test_other_sizes(n: int, t: int) -> None:
    assert_consistent(run_dkg(n, t, 1))


def _bad_share_from_2_to_4(s: DealerShare) -> DealerShare:
    if s.dealer == 2 and s.recipient == 4:
        return dataclasses.replace(s, value=s.value + Scalar.from_int(1))
    return s


def test_bad_share_answered_correctly_keeps_dealer() -> None:
    results = drive(share=_bad_share_from_2_to_4)
    assert_consistent(results)
    assert 2 in results[0].qualified


def test_bad_share_then_bad_public_reveal_disqualifies() -> None:
    def lie(r: ComplaintResponse) -> ComplaintResponse:
        return dataclasses.replace(r, value=r.value + Scalar.from_int(1))

    results = drive(share=_bad_share_from_2_to_4, respond=lie)
    assert_consistent(results)
    assert results[0].qualified == (1, 3, 4, 5)
    assert results[0].disqualified == ((2, "bad public share for trustee 4"),)


def test_missing_share_and_no_response_disqualifies() -> None:
    results = drive(
        share=lambda s: None if (s.dealer, s.recipient) == (5, 1) else s,
        respond=lambda r: None if r.dealer == 5 else r,
    )
    assert_consistent(results)
    assert results[0].disqualified == ((5, "unanswered complaint from trustee 1"),)


def test_reveal_not_matching_commitment_disqualifies() -> None:
    def swap(r: DealerReveal) -> DealerReveal:
        if r.dealer != 3:
            return r
        return dataclasses.replace(r, commitments=(base_mul(random_scalar()), *r.commitments[1:]))

    results = drive(reveal=swap)
    assert_consistent([r for r in results if r.share.index != 3])  # type: ignore[arg-type]
    for r in results:
        if r.share.index != 3:
            assert r.disqualified == ((3, "reveal does not match commitment"),)


def test_withheld_reveal_and_missing_commitment_disqualify() -> None:
    results = drive(
        reveal=lambda r: None if r.dealer == 1 else r,
        commit=lambda c: None if c.dealer == 2 else c,
    )
    others = tuple(r for r in results if r.share.index not in (1, 2))
    assert_consistent(others)
    assert others[0].disqualified == ((1, "no reveal"), (2, "no commitment"))


def test_false_complaint_against_honest_dealer_is_answered() -> None:
    results = drive(extra_complaints=(Complaint(epoch=3, dealer=1, complainer=2),))
    assert_consistent(results)
    assert results[0].qualified == (1, 2, 3, 4, 5)


def test_too_few_qualified_dealers_fails() -> None:
    with pytest.raises(DkgError):
        drive(reveal=lambda r: None if r.dealer in (1, 2, 3) else r)


def test_phase_order_and_message_checks() -> None:
    params = DkgParameters(epoch=3, n=3, t=2)
    p = DkgParticipant(params, 1)
    with pytest.raises(DkgError):
        p.complaints()
    with pytest.raises(DkgError):
        p.reveal()  # before commitment()
    p.commitment()
    with pytest.raises(DkgError):
        p.receive_commitment(DealerCommitment(epoch=4, dealer=2, digest=bytes(32)))
    with pytest.raises(DkgError):
        p.receive_commitment(DealerCommitment(epoch=3, dealer=9, digest=bytes(32)))
    p.receive_commitment(DealerCommitment(epoch=3, dealer=2, digest=bytes(32)))
    with pytest.raises(DkgError):
        p.receive_commitment(DealerCommitment(epoch=3, dealer=2, digest=b"\1" * 32))
    with pytest.raises(DkgError):
        p.receive_share(DealerShare(epoch=3, dealer=2, recipient=3, value=Scalar.from_int(1)))
    p.reveal()
    with pytest.raises(DkgError):
        p.finish()
    with pytest.raises(DkgError):
        DkgParameters(epoch=1, n=3, t=4)
    with pytest.raises(DkgError):
        DkgParticipant(params, 0)


def test_share_values_not_in_repr() -> None:
    s = DealerShare(epoch=1, dealer=1, recipient=2, value=Scalar.from_int(424242))
    assert "424242" not in repr(s)
    assert s.value.to_bytes().hex() not in repr(s)


def test_message_codec_round_trip() -> None:
    params = DkgParameters(epoch=3, n=3, t=2)
    p = DkgParticipant(params, 1)
    c = p.commitment()
    rev, shares = p.reveal()
    msgs: list[DkgMessage] = [
        c,
        rev,
        *shares,
        Complaint(3, 1, 2),
        ComplaintResponse(3, 1, 2, Scalar.from_int(5)),
    ]
    for m in msgs:
        assert decode_dkg_message(encode_dkg_message(m)) == m
    with pytest.raises(DkgError):
        decode_dkg_message(encode_dkg_message(c).replace(b'"epoch":3', b'"epoch":"3"'))
    bad_point = encode_dkg_message(
        DealerReveal(3, 1, (Point.identity(),), bytes(32))  # identity must not decode
    )
    with pytest.raises(DkgError):
        decode_dkg_message(bad_point)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_fuzz_message_decoder(data: bytes) -> None:
    try:
        msg = decode_dkg_message(data)
    except DkgError:
        return
    assert encode_dkg_message(msg) == data
