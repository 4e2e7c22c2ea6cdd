"""Scoped threshold decryption: log before decrypt, scope per item, proofs, attribution."""

from __future__ import annotations

import dataclasses

import pytest

from fulcrum.access import (
    DecryptionRequest,
    RequestRefused,
    Stage,
    WarrantCase,
    answer_request,
    check_request,
    decide,
    default_policy,
    issue_request_partials,
    open_request,
)
from fulcrum.access.request import RequestItem
from fulcrum.escrow import (
    BadPartialError,
    InsufficientPartialsError,
    ShareDestroyedError,
    TrusteeShareStore,
)
from fulcrum.hazmat.ristretto import Point
from fulcrum.translog import check_entries

from .support import (
    BUNDLE,
    DAY,
    JUDGE_KEY,
    SHARES,
    T0,
    TRUST,
    TRUSTEE_IDS,
    FakeLog,
    make_warrant,
    message,
    opening_for,
    seeded_rng,
)

pytestmark = pytest.mark.unit

Y = BUNDLE.group_key
NOW = T0 + 10 * DAY


def approved_world(items: list[RequestItem], **warrant: object):  # type: ignore[no-untyped-def]
    """Log a judge key and a warrant, get 3 approvals, log a request for ``items``."""
    log = FakeLog()
    log.append(JUDGE_KEY.to_log_entry(T0 - DAY))
    opening = opening_for(make_warrant(**warrant))
    case = WarrantCase(opening.signed.warrant.warrant_id, frozenset(TRUSTEE_IDS.values()), 3)
    case, entry = case.register(opening, T0)
    log.append(entry)
    for i in (1, 2, 3):
        d = decide(opening, trustee_id=TRUSTEE_IDS[i], policy=default_policy(),
                   log_entries=log.entries, now=T0 + 1)  # fmt: skip
        case, approval = case.decide(d, T0 + 2)
        log.append(approval)
    assert case.stage is Stage.APPROVED
    request = DecryptionRequest(case.warrant_id, "req-1", 7, tuple(items))
    case, req_entry = case.request(request, NOW)
    index = log.append(req_entry)
    return log, opening, case, request, index


def check(log: FakeLog, opening, request, index: int, witnesses: int = 2) -> bytes:  # type: ignore[no-untyped-def]
    return check_request(request, opening, log.logged(index, witnesses), TRUST, Y,
                         log_entries=log.entries, now=NOW)  # fmt: skip


def test_full_flow_decrypts_exactly_the_scope_and_logs_every_step() -> None:
    pairs = [message(i) for i in range(4)] + [message(9, sender="bob", recipients=("alice",))]
    items, keys = [p[0] for p in pairs], [p[1] for p in pairs]
    log, opening, case, request, index = approved_world(items)
    binding = check(log, opening, request, index)
    partials = []
    for i in (1, 2, 3):
        p = issue_request_partials(
            request, SHARES[i], Y, binding, opening, rng=seeded_rng(b"%d" % i)
        )
        case, entry = case.record_partials(request, p, TRUSTEE_IDS[i], NOW)
        log.append(entry)
        partials.append(p)
    assert open_request(request, partials, BUNDLE, binding) == tuple(keys)
    assert open_request(request, partials, BUNDLE, binding, optimistic=True) == tuple(keys)
    one_pass = answer_request(request, opening, log.logged(index), TRUST, SHARES[4], Y,
                              log_entries=log.entries, now=NOW)  # fmt: skip
    assert open_request(request, [*partials[:2], one_pass], BUNDLE, binding) == tuple(keys)
    case, done = case.complete(request, tuple(partials), TRUSTEE_IDS, len(items), NOW + 1)
    log.append(done)
    assert done.trustees == ("trustee-1", "trustee-2", "trustee-3")
    assert check_entries(list(enumerate(log.entries))) == []  # the auditor's rules are satisfied
    types = [e.TYPE for e in log.entries]
    assert types == ["JudgeKeyRegistered", "WarrantRegistered", *["TrusteeApproval"] * 3,
                     "DecryptionRequested", *["PartialsIssued"] * 3, "AccessCompleted"]  # fmt: skip


def test_t_minus_one_partials_fail_and_bad_partial_is_attributed() -> None:
    items = [message(i)[0] for i in range(3)]
    log, opening, _, request, index = approved_world(items)
    binding = check(log, opening, request, index)
    parts = [issue_request_partials(request, SHARES[i], Y, binding, opening) for i in (1, 2, 4)]
    with pytest.raises(InsufficientPartialsError):
        open_request(request, parts[:2], BUNDLE, binding)
    bad = dataclasses.replace(parts[2], partials=(Point.generator(), *parts[2].partials[1:]))
    for optimistic in (False, True):
        with pytest.raises(BadPartialError) as err:
            open_request(request, [*parts[:2], bad], BUNDLE, binding, optimistic=optimistic)
        assert err.value.trustee_indices == (4,)
        with pytest.raises(InsufficientPartialsError):
            open_request(request, parts[:2], BUNDLE, binding, optimistic=optimistic)
    # Partials bound to another request (replay) are refused too.
    other = issue_request_partials(request, SHARES[4], Y, b"another-request", opening)
    with pytest.raises(BadPartialError):
        open_request(request, [*parts[:2], other], BUNDLE, binding)


@pytest.mark.parametrize(
    ("item", "why"),
    [
        (message(1, sender="carol", recipients=("dave",))[0], "no target"),
        (message(2, ts=T0 - DAY)[0], "outside the warrant's window"),
        (message(3, ts=T0 + 21 * DAY)[0], "outside the warrant's window"),
    ],
)
def test_out_of_scope_items_refused(item: RequestItem, why: str) -> None:
    log, opening, _, request, index = approved_world([message(0)[0], item])
    with pytest.raises(RequestRefused, match=why) as err:
        check(log, opening, request, index)
    assert all(r.startswith("item 1") for r in err.value.reasons)


def test_recipient_list_must_match_the_bound_hash() -> None:
    """The platform cannot pull a message into scope by adding the target as a recipient."""
    item, _ = message(1, sender="carol", recipients=("dave",))
    lying = dataclasses.replace(
        item, recipient_devices=(("alice", "alice-phone"), ("dave", "dave-phone"))
    )
    log, opening, _, request, index = approved_world([lying])
    with pytest.raises(RequestRefused, match="recipient devices do not match"):
        check(log, opening, request, index)


def test_r_presented_under_a_different_context_refused() -> None:
    outside, _ = message(1, sender="carol", recipients=("dave",))
    inside, _ = message(2)
    moved = RequestItem(outside.field, inside.ctx, inside.recipient_devices)
    log, opening, _, request, index = approved_world([moved])
    with pytest.raises(RequestRefused, match="escrow proof"):
        check(log, opening, request, index)
    # The one-pass trustee answer (proofs checked inside escrow) refuses it too.
    with pytest.raises(RequestRefused, match="does not bind R"):
        answer_request(request, opening, log.logged(index), TRUST, SHARES[1], Y,
                       log_entries=log.entries, now=NOW)  # fmt: skip


def test_request_not_in_a_cosigned_checkpoint_refused() -> None:
    items = [message(0)[0]]
    log, opening, _, request, index = approved_world(items)
    with pytest.raises(RequestRefused, match="witness-cosigned"):
        check(log, opening, request, index, witnesses=1)
    # A proof for a tree in which the request is not logged yet (or a wrong leaf) fails too.
    logged = log.logged(index)
    stale = dataclasses.replace(logged, leaf_index=index - 1)
    with pytest.raises(RequestRefused, match="witness-cosigned"):
        check_request(request, opening, stale, TRUST, Y, log_entries=log.entries, now=NOW)
    # The logged entry must be this exact request.
    other = DecryptionRequest(request.warrant_id, "req-2", 7, (message(5)[0],))
    with pytest.raises(RequestRefused, match="not this request"):
        check_request(other, opening, logged, TRUST, Y, log_entries=log.entries, now=NOW)


def test_warrant_and_epoch_quotas_refused() -> None:
    items = [message(i)[0] for i in range(3)]
    log, opening, _, request, index = approved_world(items, max_messages=2)
    with pytest.raises(RequestRefused, match="warrant quota exceeded"):
        check(log, opening, request, index)
    log, opening, _, request, index = approved_world(items)
    with pytest.raises(RequestRefused, match="epoch 7 quota"):
        check_request(request, opening, log.logged(index), TRUST, Y, log_entries=log.entries,
                      now=NOW, epoch_quota=2)  # fmt: skip
    with pytest.raises(RequestRefused, match="access period is over"):
        check_request(request, opening, log.logged(index), TRUST, Y, log_entries=log.entries,
                      now=T0 + 60 * DAY)  # fmt: skip


def test_no_decryption_after_share_destruction() -> None:
    items = [message(0)[0]]
    log, opening, _, request, index = approved_world(items)
    binding = check(log, opening, request, index)
    store = TrusteeShareStore()
    store.add(SHARES[1])
    store.destroy(7)
    with pytest.raises(ShareDestroyedError):
        issue_request_partials(request, store.share(7), Y, binding, opening)


def test_request_without_logged_approval_quorum_refused() -> None:
    log = FakeLog()
    log.append(JUDGE_KEY.to_log_entry(T0 - DAY))
    opening = opening_for(make_warrant())
    log.append(opening.registration_entry(time=T0, approvals_required=3))
    for i in (1, 2):  # one approval short
        d = decide(opening, trustee_id=TRUSTEE_IDS[i], policy=default_policy(),
                   log_entries=log.entries, now=T0 + 1)  # fmt: skip
        log.append(d.to_log_entry(T0 + 2))
    request = DecryptionRequest(opening.signed.warrant.warrant_id, "req-1", 7, (message(0)[0],))
    index = log.append(request.to_log_entry(NOW))
    with pytest.raises(RequestRefused, match="2 trustee approvals, 3 required"):
        check(log, opening, request, index)
