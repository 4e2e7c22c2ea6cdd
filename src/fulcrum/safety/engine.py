"""``SafetyEngine``: metadata-only minor-protection rules (design note 07) over a ``SafetyStore``.

The server calls ``record`` for every event (``check_message`` and ``check_group_add`` are the same
as ``record`` for those events, named for the send and group paths) and acts on the decisions it
gets back: REFUSE means do not perform, HIDE means leave out, SAFETY_NOTICE goes to ``notify``,
QUEUE_REVIEW goes to the review queue, RESTRICT marks a suspicious adult. Every decision names its
rule and the numbers behind it. No content ever enters: events carry ids, times and flags only.
"""

from __future__ import annotations

from dataclasses import replace

from fulcrum.safety.ages import AgeBand, age_band, check_birth_year
from fulcrum.safety.core import DAY, facts
from fulcrum.safety.decisions import Action, Decision, ReviewPriority, RuleCount, RuleId, RuleStats
from fulcrum.safety.discovery import DiscoveryRules
from fulcrum.safety.errors import SafetyInputError
from fulcrum.safety.events import (
    AccountBanned,
    AccountCreated,
    AccountLinked,
    BanReason,
    Blocked,
    ContactAccepted,
    ContactDeclined,
    ContactRequested,
    GroupMemberAdded,
    LinkKind,
    MessageSent,
    Reported,
    SafetyEvent,
)
from fulcrum.safety.policy import AdultRequestMode, ReportPriority, SafetyPolicy, default_policy
from fulcrum.safety.store import (
    AccountRecord,
    ConnectionRecord,
    ConnectionStatus,
    InMemorySafetyStore,
    SafetyStore,
)
from fulcrum.safety.suspicion import SuspicionStatus


class SafetyEngine(DiscoveryRules):
    def __init__(
        self, store: SafetyStore | None = None, policy: SafetyPolicy | None = None
    ) -> None:
        super().__init__(
            store if store is not None else InMemorySafetyStore(), policy or default_policy()
        )

    # ---- the one entry point for events ----------------------------------------------------
    def record(self, event: SafetyEvent) -> list[Decision]:
        """Apply ``event`` to the state and return every decision it triggers."""
        match event:
            case MessageSent():
                return self.check_message(event)
            case GroupMemberAdded():
                return self.check_group_add(event)
            case ContactRequested():
                return self._contact_requested(event)
            case ContactAccepted():
                return self._contact_accepted(event)
            case ContactDeclined():
                return self._contact_declined(event)
            case Blocked():
                return self._blocked_event(event)
            case Reported():
                return self._reported(event)
            case AccountCreated():
                return self._account_created(event)
            case AccountBanned():
                return self._account_banned(event)
            case AccountLinked():
                return self._account_linked(event)
        raise SafetyInputError(f"not a safety event: {type(event).__name__}")

    # ---- rule 1 / 3: contact requests ------------------------------------------------------
    def check_contact_request(self, sender: str, recipient: str, now: float) -> list[Decision]:
        """Preview: would a contact request be refused? Changes no state, counts nothing."""
        d = self._request_decision(sender, recipient, now)
        return [] if d is None else [d]

    def _request_decision(self, sender: str, recipient: str, at: float) -> Decision | None:
        if sender == recipient:
            raise SafetyInputError("an account cannot send itself a contact request")
        s_rec, r_rec = self.store.account(sender), self.store.account(recipient)
        if self.store.is_blocked(recipient, sender):
            return self._blocked(sender, recipient, at)
        if self.connected(sender, recipient, s_rec):
            return None
        s_minor, r_minor = self.is_minor(s_rec, at), self.is_minor(r_rec, at)
        if r_minor and not s_minor:
            if self.criteria(sender, at):
                return self.suspicious_block(sender, recipient, at, sender)
            if self.policy.first_contact.adult_requests_to_minors is AdultRequestMode.REFUSE:
                return self.no_first_contact(sender, s_rec, recipient, at)
        if s_minor and not r_minor and self.criteria(recipient, at):
            return self.suspicious_block(recipient, sender, at, sender)
        return None

    def _contact_requested(self, ev: ContactRequested) -> list[Decision]:
        out: list[Decision] = []
        at = ev.at
        decision = self._request_decision(ev.sender, ev.recipient, at)
        if decision is not None:
            self.emit(out, decision)
        s_rec, r_rec = self.store.account(ev.sender), self.store.account(ev.recipient)
        connected = self.connected(ev.sender, ev.recipient, s_rec)
        if decision is None and not connected:
            self.store.put_connection(
                ConnectionRecord(ev.sender, ev.recipient, ConnectionStatus.PENDING, at)
            )
        s_minor, r_minor = self.is_minor(s_rec, at), self.is_minor(r_rec, at)
        if connected:
            return out
        if r_minor and not s_minor:
            refused = decision is not None and decision.action is Action.REFUSE
            self.stranger_contact(
                ev.sender, s_rec, ev.recipient, r_rec, at, is_request=True, refused=refused, out=out
            )
        elif not s_minor and not r_minor:
            self.initiated_contact(ev.sender, s_rec, ev.recipient, at)
        return out

    def _contact_accepted(self, ev: ContactAccepted) -> list[Decision]:
        out: list[Decision] = []
        at = ev.at
        a_rec, r_rec = self.store.account(ev.accepter), self.store.account(ev.requester)
        a_minor, r_minor = self.is_minor(a_rec, at), self.is_minor(r_rec, at)
        adult, minor = (ev.requester, ev.accepter) if a_minor else (ev.accepter, ev.requester)
        if a_minor != r_minor and self.criteria(adult, at):
            self.emit(out, self.suspicious_block(adult, minor, at, ev.accepter))
            return out
        old = self.store.connection(ev.accepter, ev.requester)
        requested_at = old.requested_at if old is not None else at
        self.store.put_connection(
            ConnectionRecord(ev.requester, ev.accepter, ConnectionStatus.ACCEPTED, requested_at, at)
        )
        sig = self.store.signals(ev.requester)
        if a_minor and not r_minor and sig is not None:
            if ev.accepter in sig.requests:
                sig.accepted.add(ev.accepter)
                sig.turned_down.discard(ev.accepter)
            sig.cache_until = float("-inf")  # the new connection leaves the fan-out count
            self.store.put_signals(sig)
        return out

    def _contact_declined(self, ev: ContactDeclined) -> list[Decision]:
        out: list[Decision] = []
        sig = self.store.signals(ev.requester)
        if sig is not None and ev.decliner in sig.requests:
            sig.turned_down.add(ev.decliner)
            sig.cache_until = float("-inf")
            self.store.put_signals(sig)
            self.announce(ev.requester, self.store.account(ev.requester), ev.at, out)
        old = self.store.connection(ev.decliner, ev.requester)
        requested_at = old.requested_at if old is not None else ev.at
        self.store.put_connection(
            ConnectionRecord(
                ev.requester, ev.decliner, ConnectionStatus.DECLINED, requested_at, ev.at
            )
        )
        return out

    # ---- complaints (rule 3a) and reports (rule 7) ------------------------------------------
    def _blocked_event(self, ev: Blocked) -> list[Decision]:
        self.store.add_block(ev.blocker, ev.blocked, ev.at)
        self.profiles.pop(ev.blocker, None)
        self.store.delete_connection(ev.blocker, ev.blocked)
        return self._complaint(ev.blocker, ev.blocked, ev.at, "blocked")

    def _complaint(self, minor: str, adult: str, at: float, kind: str) -> list[Decision]:
        out: list[Decision] = []
        adult_rec = self.store.account(adult)
        if not self.is_minor(self.store.account(minor), at) or self.is_minor(adult_rec, at):
            return out
        sig = self.signals_for(adult)
        sig.complaint_at, sig.complaint_by, sig.complaint_kind = at, minor, kind
        self.store.put_signals(sig)
        self.announce(adult, adult_rec, at, out)
        return out

    def _reported(self, ev: Reported) -> list[Decision]:
        self.store.add_report(ev)
        out: list[Decision] = []
        at = ev.at
        by_minor = self.is_minor(self.store.account(ev.reporter), at)
        about_minor = self.is_minor(self.store.account(ev.reported), at)
        if by_minor or about_minor or ev.involves_child:
            rule = RuleId.CHILD_REPORT
            high = self.policy.reports.minor_reports_priority is ReportPriority.HIGH
            priority = ReviewPriority.HIGH if high else ReviewPriority.NORMAL
            why = [
                text
                for flag, text in (
                    (by_minor, f"reporter '{ev.reporter}' is a minor"),
                    (about_minor, f"reported account '{ev.reported}' is a minor"),
                    (ev.involves_child, "the reporter marked it as involving a child"),
                )
                if flag
            ]
            self.emit(
                out,
                Decision(
                    Action.QUEUE_REVIEW,
                    rule,
                    f"{priority.value}-priority review by rule {rule.value}: " + "; ".join(why),
                    at,
                    subject=ev.reported,
                    evidence=facts(
                        report_id=ev.report_id,
                        reporter_is_minor=by_minor,
                        reported_is_minor=about_minor,
                        involves_child=ev.involves_child,
                    ),
                    thresholds=facts(
                        minor_reports_priority=self.policy.reports.minor_reports_priority.value
                    ),
                    priority=priority,
                ),
            )
        out.extend(self._complaint(ev.reporter, ev.reported, at, "reported"))
        return out

    # ---- accounts, bans and links (rule 3e) -------------------------------------------------
    def _account_created(self, ev: AccountCreated) -> list[Decision]:
        check_birth_year(ev.birth_year, ev.at)
        country = ev.country.upper() if ev.country is not None else None
        if country is not None and (len(country) != 2 or not country.isalpha()):
            raise SafetyInputError(f"country {ev.country!r} is not an ISO 3166-1 alpha-2 code")
        offset = ev.utc_offset_minutes
        if offset is not None and not -720 <= offset <= 840:
            raise SafetyInputError(f"UTC offset {offset} minutes is out of range")
        old = self.store.account(ev.account)
        self.profiles.pop(ev.account, None)
        self.store.put_account(
            AccountRecord(
                ev.account,
                ev.at,
                ev.birth_year,
                country,
                offset,
                banned=old.banned if old else None,
                links=old.links if old else (),
            )
        )
        return []

    def _record_or_blank(self, account: str) -> AccountRecord:
        rec = self.store.account(account)
        return rec if rec is not None else AccountRecord(account, None, None, None, None)

    def _account_banned(self, ev: AccountBanned) -> list[Decision]:
        out: list[Decision] = []
        rec = replace(self._record_or_blank(ev.account), banned=ev.reason)
        self.store.put_account(rec)
        if ev.reason is BanReason.CHILD_SAFETY:
            for other, kind in rec.links:
                if kind is not LinkKind.FAMILY:
                    self._linked_to_banned(other, ev.account, ev.at, out)
        return out

    def _account_linked(self, ev: AccountLinked) -> list[Decision]:
        if ev.account == ev.other:
            raise SafetyInputError("an account cannot be linked to itself")
        out: list[Decision] = []
        a, b = self._record_or_blank(ev.account), self._record_or_blank(ev.other)
        if (ev.other, ev.kind) not in a.links:
            self.store.put_account(replace(a, links=(*a.links, (ev.other, ev.kind))))
        if (ev.account, ev.kind) not in b.links:
            self.store.put_account(replace(b, links=(*b.links, (ev.account, ev.kind))))
        if ev.kind is not LinkKind.FAMILY:
            if b.banned_for_child_safety:
                self._linked_to_banned(ev.account, ev.other, ev.at, out)
            if a.banned_for_child_safety:
                self._linked_to_banned(ev.other, ev.account, ev.at, out)
        return out

    def _linked_to_banned(self, account: str, banned: str, at: float, out: list[Decision]) -> None:
        sig = self.signals_for(account)
        sig.linked_banned = banned
        self.store.put_signals(sig)
        self.announce(account, self.store.account(account), at, out)

    # ---- rule 5: groups ----------------------------------------------------------------------
    def check_group_add(self, event: GroupMemberAdded) -> list[Decision]:
        """Gate and record adding ``event.added`` to a group. REFUSE means do not add."""
        out: list[Decision] = []
        at, adder, added = event.at, event.adder, event.added
        d_rec, a_rec = self.store.account(adder), self.store.account(added)
        if adder == added or not self.is_minor(a_rec, at):
            return out
        adult_adder = not self.is_minor(d_rec, at)
        if self.store.is_blocked(added, adder):
            self.emit(out, self._blocked(adder, added, at))
        elif adult_adder and self.criteria(adder, at):
            self.emit(out, self.suspicious_block(adder, added, at, adder))
        elif event.via_invite_accepted or self.connected(adder, added, d_rec):
            if adult_adder:
                self.store.add_minor_chat(adder, added)
            return out
        elif self.policy.groups.minors_added_by_connections_or_invite_only:
            rule = RuleId.GROUP_ADD
            self.emit(
                out,
                Decision(
                    Action.REFUSE,
                    rule,
                    f"refused by rule {rule.value}: minor '{added}' can be added to a group only "
                    f"by a connection or through an invite link they accept; '{adder}' is not a "
                    "connection",
                    at,
                    subject=adder,
                    evidence=facts(
                        conversation=event.conversation, via_invite_accepted=False, connected=False
                    ),
                ),
            )
        if adult_adder and not self.connected(adder, added, d_rec):
            self.stranger_contact(adder, d_rec, added, a_rec, at, is_request=False, out=out)
        return out

    # ---- queries -----------------------------------------------------------------------------
    def suspicious_adult_status(self, account: str, now: float) -> SuspicionStatus:
        rec = self.store.account(account)
        return SuspicionStatus(
            account=account,
            at=now,
            is_adult=not self.is_minor(rec, now),
            criteria=self.criteria(account, now),
            review_min_criteria=self.policy.suspicious_adult.review_min_criteria,
        )

    def age_band(self, account: str, now: float) -> AgeBand:
        rec = self.store.account(account)
        return age_band(rec.birth_year if rec else None, now, self.policy.age)

    def rule_stats(self, start: float, end: float) -> RuleStats:
        """Decision counts per rule and action over the whole UTC days from ``start`` to ``end``."""
        if end < start:
            raise SafetyInputError("rule_stats: end is before start")
        first, last = int(start // DAY), int(end // DAY)
        counts = self.store.decision_counts(first, last)
        ordered = sorted(counts.items(), key=lambda kv: (kv[0][0].value, kv[0][1].value))
        return RuleStats(first, last, tuple(RuleCount(r, a, n) for (r, a), n in ordered))
