"""Scope policies and quotas computed from the log; trustee decisions with reasons."""

from __future__ import annotations

import pytest

from fulcrum.access import (
    AccessUsage,
    AgencyWarrantQuota,
    AnyOf,
    MaxTargets,
    RetrospectiveAllowed,
    decide,
    default_policy,
    sign_warrant,
    warrant_id_for,
)
from fulcrum.access.commitment import WarrantOpening
from fulcrum.hazmat.signing import SigningKey
from fulcrum.translog import DecryptionRequested, LogEntry

from .support import DAY, JUDGE_KEY, T0, make_warrant, opening_for

pytestmark = pytest.mark.unit

D = bytes(32)


def log_with(opening: WarrantOpening, *extra: LogEntry) -> list[LogEntry]:
    return [
        JUDGE_KEY.to_log_entry(T0 - DAY),
        *extra,
        opening.registration_entry(time=T0, approvals_required=3),
    ]


def codes(opening: WarrantOpening, log: list[LogEntry], **policy: object) -> list[str]:
    d = decide(opening, trustee_id="trustee-1", policy=default_policy(**policy),  # type: ignore[arg-type]
               log_entries=log, now=T0 + 1)  # fmt: skip
    assert d.approved == (not d.reasons)
    return [r.code for r in d.reasons]


def test_valid_warrant_approved_and_logged() -> None:
    opening = opening_for(make_warrant())
    d = decide(opening, trustee_id="trustee-1", policy=default_policy(),
               log_entries=log_with(opening), now=T0 + 1)  # fmt: skip
    assert d.approved and d.reasons == ()
    entry = d.to_log_entry(T0 + 2)
    assert entry is not None and entry.approval_digest == d.digest


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"targets": ["a", "b", "c", "d"]}, "too-many-targets"),
        ({"window_end": T0 + 31 * DAY}, "window-forward"),
        ({"window_start": T0 - DAY}, "retrospective-disabled"),
        ({"max_messages": 10_001}, "too-many-messages"),
        ({"special_categories": ["journalist"]}, "special-category"),
    ],
)
def test_overbroad_warrants_refused(changes: dict[str, object], code: str) -> None:
    opening = opening_for(make_warrant(**changes))
    got = codes(opening, log_with(opening))
    assert got == [code]
    entry = decide(opening, trustee_id="t", policy=default_policy(), log_entries=log_with(opening),
                   now=T0 + 1).to_log_entry(T0)  # fmt: skip
    # a denial is logged, with its codes, and never counts as an approval
    assert entry.approved is False and entry.reasons == (code,)


def test_retrospective_only_where_switched_on_and_within_90_days() -> None:
    back = opening_for(make_warrant(window_start=T0 - 60 * DAY))
    assert codes(back, log_with(back), retrospective=True) == []
    far = opening_for(make_warrant(window_start=T0 - 91 * DAY))
    assert codes(far, log_with(far), retrospective=True) == ["window-back"]
    cat = opening_for(make_warrant(special_categories=["journalist"]))
    assert codes(cat, log_with(cat), allowed_categories=["journalist"]) == []


def test_forged_signature_and_unregistered_warrant_denied() -> None:
    forged = WarrantOpening.create(sign_warrant(make_warrant(), SigningKey(bytes(32))), bytes(32))
    assert codes(forged, log_with(forged)) == ["judge-signature"]
    honest = opening_for(make_warrant())
    assert "not-registered" in codes(honest, [JUDGE_KEY.to_log_entry(T0 - DAY)])
    other = opening_for(make_warrant(max_messages=5))
    assert "registration-mismatch" in codes(honest, log_with(other))


def test_agency_quotas_computed_from_the_log() -> None:
    earlier = [
        opening_for(
            make_warrant(warrant_id=warrant_id_for("XA", "police-a", f"old-{i}"))
        ).registration_entry(time=T0 - i * DAY, approvals_required=3)
        for i in range(1, 21)
    ]
    opening = opening_for(make_warrant())
    assert codes(opening, log_with(opening, *earlier)) == ["agency-warrant-quota"]
    assert codes(opening, log_with(opening, *earlier[:19])) == []  # 20 incl. this one: at quota
    others = [
        opening_for(make_warrant(warrant_id=warrant_id_for("XA", "police-b", f"b-{i}"),
                                 agency="police-b"))
        .registration_entry(time=T0, approvals_required=3)
        for i in range(5)
    ]  # fmt: skip
    assert codes(opening, log_with(opening, *earlier[:19], *others)) == []  # other agency
    big = [
        DecryptionRequested(time=T0 - DAY, warrant_id=e.warrant_id, request_id="r",
                            epoch=7, field_count=9_901, request_digest=D)
        for e in earlier[:10]
    ]  # fmt: skip
    log = log_with(opening, *earlier[:10], *big)
    assert codes(opening, log) == ["agency-message-quota"]
    usage = AccessUsage.from_entries(log)
    assert usage.messages_by_agency == {"police-a": 99_010}
    assert usage.messages_by_epoch == {7: 99_010}
    assert usage.warrants_by_agency == {"police-a": 11}


def test_any_of_explains_every_alternative() -> None:
    w = make_warrant(targets=["a", "b", "c", "d"], window_start=T0 - DAY)
    policy = AnyOf(MaxTargets(3), RetrospectiveAllowed(False))
    (refusal,) = policy.check(w, AccessUsage.from_entries([]))
    assert "too-many-targets" in refusal.detail and "retrospective" in refusal.detail
    assert AnyOf(MaxTargets(5), MaxTargets(1)).check(w, AccessUsage.from_entries([])) == ()
    assert AgencyWarrantQuota(0).check(w, AccessUsage.from_entries([])) == ()


def test_lifecycle_denied_when_quorum_unreachable() -> None:
    from fulcrum.access import Stage, WarrantCase

    opening = opening_for(make_warrant(targets=["a", "b", "c", "d"]))
    case = WarrantCase(opening.signed.warrant.warrant_id, frozenset({"t1", "t2", "t3"}), 2)
    case, _ = case.register(opening, T0)
    for t in ("t1", "t2"):
        d = decide(opening, trustee_id=t, policy=default_policy(),
                   log_entries=log_with(opening), now=T0 + 1)  # fmt: skip
        case, entry = case.decide(d, T0 + 1)
        assert entry.approved is False and "too-many-targets" in entry.reasons
    assert case.stage is Stage.DENIED and case.denials == {"t1", "t2"}
