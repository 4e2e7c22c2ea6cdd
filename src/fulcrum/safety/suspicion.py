"""Rule 3: the suspicious-adult criteria, evaluated from an adult's ``AdultSignals``."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from types import MappingProxyType

from fulcrum.safety.decisions import Criterion, RuleId
from fulcrum.safety.policy import SuspiciousAdultPolicy
from fulcrum.safety.store import AccountRecord, AdultSignals
from fulcrum.safety.windows import DistinctWindow

DAY = 86400.0
HOUR = 3600.0
INF = float("inf")


@dataclass(frozen=True, slots=True)
class SuspicionStatus:
    """Which suspicious-adult criteria hold for ``account`` at ``at``."""

    account: str
    at: float
    is_adult: bool
    criteria: tuple[Criterion, ...]
    review_min_criteria: int

    @property
    def suspicious(self) -> bool:
        return bool(self.criteria)

    @property
    def needs_review(self) -> bool:
        return len(self.criteria) >= self.review_min_criteria

    @property
    def rule_ids(self) -> tuple[RuleId, ...]:
        return tuple(c.rule_id for c in self.criteria)

    def explain(self) -> str:
        if not self.criteria:
            return f"'{self.account}' meets no suspicious-adult criterion"
        return "; ".join(f"{c.rule_id.value}: {c.explanation}" for c in self.criteria)


def new_signals(account_id: str, policy: SuspiciousAdultPolicy) -> AdultSignals:
    return AdultSignals(
        account_id=account_id,
        fanout_day=DistinctWindow(policy.fanout_day_hours * HOUR),
        fanout_week=DistinctWindow(policy.fanout_week_days * DAY),
    )


def evaluate(
    signals: AdultSignals,
    account: AccountRecord | None,
    now: float,
    policy: SuspiciousAdultPolicy,
    contacts: Set[str] = frozenset(),
) -> tuple[Criterion, ...]:
    """Every criterion that holds at ``now``, in rule order (a) to (f). ``contacts`` are the
    adult's current connections: minors who have since accepted no longer count as fan-out."""
    found = [
        _complaint(signals, now, policy),
        _fanout(signals, now, policy, contacts),
        _low_acceptance(signals, now, policy),
        _new_account(signals, account, now, policy),
        _linked_banned(signals),
        _cross_border(signals, account, now, policy),
    ]
    return tuple(c for c in found if c is not None)


def recheck_at(
    found: tuple[Criterion, ...], s: AdultSignals, now: float, p: SuspiciousAdultPolicy
) -> float:
    """Until when ``found`` stays valid without new events."""
    lapse = min((c.lapses_at for c in found), default=INF)
    return min(lapse, acceptance_recheck_at(s, now, p))


def _m(
    **values: str | int | float | bool | None,
) -> MappingProxyType[str, str | int | float | bool | None]:
    return MappingProxyType(values)


def _days(seconds: float) -> float:
    return round(seconds / DAY, 1)


def _complaint(s: AdultSignals, now: float, p: SuspiciousAdultPolicy) -> Criterion | None:
    window = p.complaint_window_days * DAY
    if s.complaint_at is None or now - s.complaint_at >= window:
        return None
    ago = _days(now - s.complaint_at)
    return Criterion(
        RuleId.MINOR_COMPLAINT,
        f"{s.complaint_kind} by minor '{s.complaint_by}' {ago} days ago "
        f"(window {p.complaint_window_days:g} days)",
        _m(kind=s.complaint_kind, by=s.complaint_by, days_ago=ago),
        _m(complaint_window_days=p.complaint_window_days),
        s.complaint_at + window,
    )


def _fanout(
    s: AdultSignals, now: float, p: SuspiciousAdultPolicy, contacts: Set[str]
) -> Criterion | None:
    day = sum(1 for m in s.fanout_day.keys(now) if m not in contacts)
    week = sum(1 for m in s.fanout_week.keys(now) if m not in contacts)
    thresholds = _m(
        fanout_day_threshold=p.fanout_day_threshold,
        fanout_day_hours=p.fanout_day_hours,
        fanout_week_threshold=p.fanout_week_threshold,
        fanout_week_days=p.fanout_week_days,
    )
    evidence = _m(minors_day=day, minors_week=week)
    if day >= p.fanout_day_threshold:
        text = (
            f"{day} unconnected minors contacted in {p.fanout_day_hours:g} h "
            f"(threshold {p.fanout_day_threshold})"
        )
        return Criterion(RuleId.FANOUT, text, evidence, thresholds, s.fanout_day.lapses_at())
    if week >= p.fanout_week_threshold:
        text = (
            f"{week} unconnected minors contacted in {p.fanout_week_days:g} days "
            f"(threshold {p.fanout_week_threshold})"
        )
        return Criterion(RuleId.FANOUT, text, evidence, thresholds, s.fanout_week.lapses_at())
    return None


def _low_acceptance(s: AdultSignals, now: float, p: SuspiciousAdultPolicy) -> Criterion | None:
    window, grace = p.acceptance_window_days * DAY, p.acceptance_pending_days * DAY
    for minor in [m for m, t in s.requests.items() if now - t >= window]:
        del s.requests[minor]
        s.accepted.discard(minor)
        s.turned_down.discard(minor)
    pending = [t for m, t in s.requests.items() if m not in s.accepted and m not in s.turned_down]
    stale = sum(1 for t in pending if now - t >= grace)
    accepted = len(s.accepted)
    n = accepted + len(s.turned_down) + stale  # decided requests, or pending for too long
    if n < p.acceptance_min_requests or accepted >= p.acceptance_min_rate * n:
        return None
    return Criterion(
        RuleId.LOW_ACCEPTANCE,
        f"{accepted} of {n} contact requests to minors accepted ({accepted / n:.0%}) in "
        f"{p.acceptance_window_days:g} days (threshold: under {p.acceptance_min_rate:.0%} of "
        f">= {p.acceptance_min_requests}; pending over {p.acceptance_pending_days:g} days counts)",
        _m(requests=n, accepted=accepted, rate=round(accepted / n, 3)),
        _m(
            acceptance_min_requests=p.acceptance_min_requests,
            acceptance_min_rate=p.acceptance_min_rate,
            acceptance_pending_days=p.acceptance_pending_days,
        ),
        min(s.requests.values()) + window,
    )


def acceptance_recheck_at(s: AdultSignals, now: float, p: SuspiciousAdultPolicy) -> float:
    """When a pending request to a minor goes stale: criterion (c) may start to hold then
    without any new event, so cached criteria must be re-evaluated."""
    grace = p.acceptance_pending_days * DAY
    times = [
        t + grace
        for m, t in s.requests.items()
        if m not in s.accepted and m not in s.turned_down and t + grace > now
    ]
    return min(times, default=INF)


def _new_account(
    s: AdultSignals, account: AccountRecord | None, now: float, p: SuspiciousAdultPolicy
) -> Criterion | None:
    if account is None or account.created_at is None:
        return None
    ends = account.created_at + p.new_account_days * DAY
    total, minors = len(s.initiated), len(s.initiated_minors)
    if (
        now >= ends
        or total < p.new_account_min_contacts
        or minors <= p.new_account_minor_share * total
    ):
        return None
    return Criterion(
        RuleId.NEW_ACCOUNT_MINORS,
        f"account {_days(now - account.created_at)} days old (under {p.new_account_days:g}) and "
        f"{minors} of {total} accounts it contacted are unconnected minors "
        f"(threshold: over {p.new_account_minor_share:.0%} of >= {p.new_account_min_contacts})",
        _m(account_age_days=_days(now - account.created_at), contacted=total, minors=minors),
        _m(
            new_account_days=p.new_account_days,
            new_account_min_contacts=p.new_account_min_contacts,
            new_account_minor_share=p.new_account_minor_share,
        ),
        ends,
    )


def _linked_banned(s: AdultSignals) -> Criterion | None:
    if s.linked_banned is None:
        return None
    return Criterion(
        RuleId.LINKED_BANNED,
        f"linked to '{s.linked_banned}', an account banned for child safety",
        _m(linked_account=s.linked_banned),
        _m(),
        INF,
    )


def _cross_border(
    s: AdultSignals, account: AccountRecord | None, now: float, p: SuspiciousAdultPolicy
) -> Criterion | None:
    if s.cross_border_at is None or account is None or account.created_at is None:
        return None
    ends = account.created_at + p.cross_border_account_days * DAY
    if now >= ends or s.cross_border_countries is None:
        return None
    own, theirs = s.cross_border_countries
    return Criterion(
        RuleId.CROSS_BORDER_NEW,
        f"contacted minor '{s.cross_border_minor}' in {theirs} with no mutual contacts from {own}, "
        f"account {_days(now - account.created_at)} days old "
        f"(under {p.cross_border_account_days:g})",
        _m(minor=s.cross_border_minor, own_country=own, minor_country=theirs),
        _m(cross_border_account_days=p.cross_border_account_days),
        ends,
    )
