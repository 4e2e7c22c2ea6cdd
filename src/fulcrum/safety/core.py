"""Shared machinery of the engine: age bands, connections, decision bookkeeping and the
suspicious-adult signals (rule 3). ``SafetyEngine`` in ``engine.py`` is the public face."""

from __future__ import annotations

from types import MappingProxyType

from fulcrum.safety import suspicion
from fulcrum.safety.ages import reached_age_at
from fulcrum.safety.decisions import (
    Action,
    Criterion,
    Decision,
    EvidenceValue,
    NoticeKind,
    ReviewPriority,
    RuleId,
)
from fulcrum.safety.events import LinkKind
from fulcrum.safety.policy import SafetyPolicy, UnknownAgeTreatment
from fulcrum.safety.store import AccountRecord, AdultSignals, ConnectionStatus, SafetyStore

DAY = 86400.0
INF = float("inf")
_ACCEPTED = ConnectionStatus.ACCEPTED


def facts(**values: EvidenceValue) -> MappingProxyType[str, EvidenceValue]:
    return MappingProxyType(values)


class EngineCore:
    def __init__(self, store: SafetyStore, policy: SafetyPolicy) -> None:
        self.store = store
        self.policy = policy
        unknown = policy.age.unknown_age_treated_as
        self._unknown_minor = unknown is not UnknownAgeTreatment.ADULT
        self._unknown_young = unknown is UnknownAgeTreatment.YOUNG_MINOR
        self._adult_from: dict[int, float] = {}
        self._older_from: dict[int, float] = {}
        self.new_account_seconds = policy.suspicious_adult.new_account_days * DAY
        n = policy.notices
        self.notice_horizon = max(
            n.new_contact_days * DAY,
            n.new_media_contact_hours * 3600.0,
            n.young_minor_new_media_contact_hours * 3600.0,
        )
        # account -> (treated as minor until, counts as a new account until): the per-send hot path
        self.profiles: dict[str, tuple[float, float, bool]] = {}
        self.group_tracked: dict[tuple[str, str], float] = {}  # (adult, group) -> last tracked
        self.forwards_expired_at = -INF

    # ---- age bands -------------------------------------------------------------------------
    def is_minor(self, rec: AccountRecord | None, at: float) -> bool:
        if rec is None or rec.birth_year is None:
            return self._unknown_minor
        limit = self._adult_from.get(rec.birth_year)
        if limit is None:
            limit = reached_age_at(rec.birth_year, self.policy.age.adult_age)
            self._adult_from[rec.birth_year] = limit
        return at < limit

    def profile(self, account: str) -> tuple[float, float, bool]:
        """(treated as minor until, new account until, has blocked anyone) for ``account``:
        the per-send hot path. Cached; ``AccountCreated`` and ``Blocked`` refresh it."""
        rec = self.store.account(account)
        if rec is None or rec.birth_year is None:
            minor_until = INF if self._unknown_minor else -INF
        else:
            minor_until = self._adult_from.get(rec.birth_year) or reached_age_at(
                rec.birth_year, self.policy.age.adult_age
            )
        new_until = -INF
        if rec is not None and rec.created_at is not None:
            new_until = rec.created_at + self.new_account_seconds
        # optional store extension; without it every send between adults checks for a block
        probe = getattr(self.store, "has_blocked_anyone", None)
        found = (minor_until, new_until, True if probe is None else bool(probe(account)))
        self.profiles[account] = found
        return found

    def is_young_minor(self, rec: AccountRecord | None, at: float) -> bool:
        if rec is None or rec.birth_year is None:
            return self._unknown_young
        limit = self._older_from.get(rec.birth_year)
        if limit is None:
            limit = reached_age_at(rec.birth_year, self.policy.age.young_minor_age)
            self._older_from[rec.birth_year] = limit
        return at < limit

    def band_word(self, rec: AccountRecord | None, at: float) -> str:
        if rec is None or rec.birth_year is None:
            return "unknown-age account (treated as minor)" if self._unknown_minor else "adult"
        return "minor" if self.is_minor(rec, at) else "adult"

    # ---- connections -----------------------------------------------------------------------
    def connected(self, a: str, b: str, a_rec: AccountRecord | None) -> bool:
        conn = self.store.connection(a, b)
        if conn is not None and conn.status is _ACCEPTED:
            return True
        return self.family(a_rec, b)

    @staticmethod
    def family(rec: AccountRecord | None, other: str) -> bool:
        return rec is not None and (other, LinkKind.FAMILY) in rec.links

    # ---- decisions -------------------------------------------------------------------------
    def emit(self, out: list[Decision], decision: Decision) -> None:
        out.append(decision)
        self.store.count_decision(int(decision.at // DAY), decision.rule_id, decision.action)

    def notice(
        self,
        out: list[Decision],
        rule: RuleId,
        kind: NoticeKind,
        minor: str,
        other: str,
        at: float,
        cooldown: float,
        explanation: str,
        evidence: MappingProxyType[str, EvidenceValue],
        thresholds: MappingProxyType[str, EvidenceValue],
    ) -> None:
        """A safety notice to ``minor`` about ``other``, at most once per ``cooldown`` seconds."""
        last = self.store.last_notice(kind, minor, other)
        if last is not None and at - last < cooldown:
            return
        self.store.put_notice(kind, minor, other, at)
        self.emit(
            out,
            Decision(
                Action.SAFETY_NOTICE,
                rule,
                f"notice by rule {rule.value}: {explanation}",
                at,
                subject=other,
                evidence=evidence,
                thresholds=thresholds,
                notify=minor,
                notice=kind,
            ),
        )

    # ---- rule 3: suspicious adults ---------------------------------------------------------
    def criteria(self, account: str, at: float) -> tuple[Criterion, ...]:
        """Criteria that hold for ``account`` (cached until the earliest one may change)."""
        sig = self.store.signals(account)
        if sig is None:
            return ()
        if at < sig.cache_until:
            return sig.cache
        rec = self.store.account(account)
        p = self.policy.suspicious_adult
        if self.is_minor(rec, at):
            found: tuple[Criterion, ...] = ()
            sig.cache_until = at + DAY  # minors grow up: look again tomorrow
        else:
            found = suspicion.evaluate(sig, rec, at, p, self.store.contacts(account))
            sig.cache_until = suspicion.recheck_at(found, sig, at, p)
        sig.cache = found
        if not found and sig.flagged_rules:  # the episode is over; a new one is announced again
            sig.flagged_rules = frozenset()
            sig.review_queued = False
        self.store.put_signals(sig)
        return found

    def signals_for(self, account: str) -> AdultSignals:
        sig = self.store.signals(account)
        if sig is None:
            sig = suspicion.new_signals(account, self.policy.suspicious_adult)
        sig.cache_until = -INF  # the caller is about to change it
        return sig

    def stranger_contact(
        self,
        adult: str,
        adult_rec: AccountRecord | None,
        minor: str,
        minor_rec: AccountRecord | None,
        at: float,
        *,
        is_request: bool,
        refused: bool = True,
        out: list[Decision],
    ) -> None:
        """An adult tried to reach an unconnected minor (request, message or group add)."""
        if self.family(adult_rec, minor):
            return
        p = self.policy.suspicious_adult
        contacts = self.store.contacts(adult)
        mutual = contacts & self.store.contacts(minor) if contacts else set()
        exempt = p.adult_mutual_contact_exempts and any(
            not self.is_minor(self.store.account(m), at) for m in mutual
        )
        sig = self.signals_for(adult)
        if not exempt:
            sig.fanout_day.add(at, minor)
            sig.fanout_week.add(at, minor)
            if is_request:
                sig.requests.setdefault(minor, at)
                if refused:
                    sig.turned_down.add(minor)
            if self._is_new(adult_rec, at, p.new_account_days):
                sig.initiated.add(minor)
                sig.initiated_minors.add(minor)
        own = adult_rec.country if adult_rec else None
        theirs = minor_rec.country if minor_rec else None
        if (
            not mutual
            and own is not None
            and theirs is not None
            and own != theirs
            and self._is_new(adult_rec, at, p.cross_border_account_days)
        ):
            sig.cross_border_at, sig.cross_border_minor = at, minor
            sig.cross_border_countries = (own, theirs)
        self.store.put_signals(sig)
        self.announce(adult, adult_rec, at, out)

    def initiated_contact(
        self, adult: str, adult_rec: AccountRecord | None, target: str, at: float
    ) -> None:
        """A new adult account first contacted a non-minor (the denominator of criterion (d))."""
        if not self._is_new(adult_rec, at, self.policy.suspicious_adult.new_account_days):
            return
        sig = self.store.signals(adult)
        if sig is not None and target in sig.initiated:
            return
        sig = self.signals_for(adult)
        sig.initiated.add(target)
        self.store.put_signals(sig)

    @staticmethod
    def _is_new(rec: AccountRecord | None, at: float, days: float) -> bool:
        return rec is not None and rec.created_at is not None and at - rec.created_at < days * DAY

    def announce(
        self, adult: str, rec: AccountRecord | None, at: float, out: list[Decision]
    ) -> None:
        """After ``adult``'s signals changed: restrict on new criteria, notify minors in existing
        chats when the account first becomes suspicious, queue a review at the review threshold."""
        found = self.criteria(adult, at)
        sig = self.store.signals(adult)
        if not found or sig is None:
            return
        p = self.policy.suspicious_adult
        first_time = not sig.flagged_rules
        for c in found:
            if c.rule_id in sig.flagged_rules:
                continue
            self.emit(
                out,
                Decision(
                    Action.RESTRICT,
                    c.rule_id,
                    f"flagged by {c.rule_id.value}: {c.explanation}; adult '{adult}' is hidden "
                    "from and blocked from minors",
                    at,
                    subject=adult,
                    evidence=c.evidence,
                    thresholds=c.thresholds,
                ),
            )
        sig.flagged_rules = frozenset(c.rule_id for c in found)
        if len(found) >= p.review_min_criteria and not sig.review_queued:
            sig.review_queued = True
            self.emit(
                out,
                Decision(
                    Action.QUEUE_REVIEW,
                    RuleId.SUSPICIOUS_REVIEW,
                    f"review queued by {RuleId.SUSPICIOUS_REVIEW.value}: {len(found)} "
                    f"suspicious-adult criteria hold for '{adult}' "
                    f"(threshold {p.review_min_criteria}): "
                    + ", ".join(c.rule_id.value for c in found),
                    at,
                    subject=adult,
                    evidence=facts(criteria=",".join(c.rule_id.value for c in found)),
                    thresholds=facts(review_min_criteria=p.review_min_criteria),
                    priority=ReviewPriority.HIGH,
                ),
            )
        self.store.put_signals(sig)
        if first_time:
            minors = set(self.store.minor_chats(adult))
            minors.update(self.store.contacts(adult))
            for minor in sorted(minors):
                if self.is_minor(self.store.account(minor), at):
                    self.suspicious_notice(adult, minor, found, at, out)

    def suspicious_notice(
        self, adult: str, minor: str, found: tuple[Criterion, ...], at: float, out: list[Decision]
    ) -> None:
        if self.store.is_blocked(minor, adult):
            return  # the minor has already acted on it
        rules = ", ".join(c.rule_id.value for c in found)
        self.notice(
            out,
            RuleId.NOTICE_SUSPICIOUS,
            NoticeKind.SUSPICIOUS_ADULT,
            minor,
            adult,
            at,
            self.policy.suspicious_adult.notice_cooldown_days * DAY,
            f"minor '{minor}' is chatting with adult '{adult}', who meets suspicious-adult "
            f"criteria {rules}",
            facts(criteria=rules),
            facts(notice_cooldown_days=self.policy.suspicious_adult.notice_cooldown_days),
        )
