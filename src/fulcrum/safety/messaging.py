"""Per-send checks (rules 1, 4 and 6 on ``MessageSent``). Built to be cheap: a send between two
adults costs two account look-ups and a block check; pairs with a minor touch O(1) amortised
sliding windows, never a scan of history."""

from __future__ import annotations

from fulcrum.safety.core import DAY, EngineCore, facts
from fulcrum.safety.decisions import Action, Decision, NoticeKind, RuleId
from fulcrum.safety.events import MessageSent
from fulcrum.safety.store import AccountRecord, ConnectionRecord, ConnectionStatus, PairActivity
from fulcrum.safety.windows import SlidingCount

HOUR = 3600.0
_ACCEPTED = ConnectionStatus.ACCEPTED
_PENDING = ConnectionStatus.PENDING


class MessageChecks(EngineCore):
    def check_message(self, event: MessageSent) -> list[Decision]:
        """Gate one send and record it. Any REFUSE decision means: do not deliver. Also returns
        safety notices for minors among the recipients and rule-3 decisions for the sender."""
        out: list[Decision] = []
        at = event.at
        sender = event.sender
        if event.forward_count > 0 and self._forward_refused(event, out):
            return out
        profiles = self.profiles
        store = self.store
        s_minor_until, s_new_until, _ = profiles.get(sender) or self.profile(sender)
        s_minor = at < s_minor_until
        is_group = event.is_group
        if is_group:
            if not s_minor:
                self._group_send(event, out)
            return out
        for recipient in event.recipients:
            r_minor_until, _, r_blocks = profiles.get(recipient) or self.profile(recipient)
            r_minor = at < r_minor_until
            if not (s_minor or r_minor):  # the common case: two adults
                if r_blocks and store.is_blocked(recipient, sender):
                    self.emit(out, self._blocked(sender, recipient, at))
                elif at < s_new_until:
                    s_rec = store.account(sender)
                    if not self.connected(sender, recipient, s_rec):
                        self.initiated_contact(sender, s_rec, recipient, at)
                continue
            if recipient == sender:
                continue
            if store.is_blocked(recipient, sender):
                self.emit(out, self._blocked(sender, recipient, at))
                continue
            conn = store.connection(sender, recipient)
            if conn is None or conn.status is not _ACCEPTED:
                s_rec = store.account(sender)
                if not self.family(s_rec, recipient):
                    r_rec = store.account(recipient)
                    self._unconnected(event, s_rec, s_minor, recipient, r_rec, r_minor, conn, out)
                continue
            if not r_minor:  # a minor writing to a connected adult
                if store.signals(recipient) is not None:
                    self._suspicious_chat(recipient, sender, at, out, track=False)
                continue
            if not s_minor and store.signals(sender) is not None:
                self._suspicious_chat(sender, recipient, at, out, track=False)
            since = conn.decided_at if conn.decided_at is not None else conn.requested_at
            if at - since < self.notice_horizon:  # only young contacts can trigger notices
                self._new_contact_notices(event, s_minor, recipient, at - since, out)
        return out

    def _group_send(self, event: MessageSent, out: list[Decision]) -> None:
        """An adult's group send: remember the minors in it (at most daily per group, for notices
        when the adult is flagged) and notify them if the adult is suspicious."""
        at, sender = event.at, event.sender
        key = (sender, event.conversation)
        suspicious = self.store.signals(sender) is not None and self.criteria(sender, at)
        if not suspicious and at - self.group_tracked.get(key, -DAY) < DAY:
            return
        self.group_tracked[key] = at
        profiles = self.profiles
        for recipient in event.recipients:
            if recipient != sender and at < (profiles.get(recipient) or self.profile(recipient))[0]:
                self._suspicious_chat(sender, recipient, at, out, track=True)

    # ---- rule 6 ------------------------------------------------------------------------------
    def _forward_refused(self, event: MessageSent, out: list[Decision]) -> bool:
        p = self.policy.forwarding
        frequent = event.forward_count >= p.frequently_forwarded_at
        limit = p.frequently_forwarded_max_chats if frequent else p.max_chats
        if event.forward_batch is None:
            return False  # a single send is one chat; batches are how multi-chat forwards are seen
        if event.at - self.forwards_expired_at >= 60.0:  # sweep old batches once a minute
            self.forwards_expired_at = event.at
            self.store.expire_forward_batches(event.at - p.batch_window_minutes * 60)
        chats = self.store.add_forward(
            event.sender, event.forward_batch, event.conversation, event.at
        )
        if chats <= limit:
            return False
        kind = (
            f"forwarded {event.forward_count} times (>= {p.frequently_forwarded_at})"
            if frequent
            else f"forwarded {event.forward_count} times"
        )
        self.emit(
            out,
            Decision(
                Action.REFUSE,
                RuleId.FORWARD_LIMIT,
                f"refused by rule {RuleId.FORWARD_LIMIT.value}: message {kind} may go to at most "
                f"{limit} chats per forward; this would be chat {chats}",
                event.at,
                subject=event.sender,
                evidence=facts(forward_count=event.forward_count, chats=chats),
                thresholds=facts(
                    max_chats=p.max_chats,
                    frequently_forwarded_at=p.frequently_forwarded_at,
                    frequently_forwarded_max_chats=p.frequently_forwarded_max_chats,
                ),
            ),
        )
        return True

    # ---- rule 1 ------------------------------------------------------------------------------
    def _unconnected(
        self,
        event: MessageSent,
        s_rec: AccountRecord | None,
        s_minor: bool,
        recipient: str,
        r_rec: AccountRecord | None,
        r_minor: bool,
        conn: ConnectionRecord | None,
        out: list[Decision],
    ) -> None:
        sender, at = event.sender, event.at
        if not r_minor:  # a minor writing first to an adult: allowed unless the adult is suspicious
            if self.criteria(recipient, at):
                self.emit(out, self.suspicious_block(recipient, sender, at, sender))
            else:
                self.store.add_minor_chat(recipient, sender)
            return
        if not s_minor:
            if self.criteria(sender, at):
                self.emit(out, self.suspicious_block(sender, recipient, at, sender))
            else:
                self.emit(out, self.no_first_contact(sender, s_rec, recipient, at))
            self.stranger_contact(sender, s_rec, recipient, r_rec, at, is_request=False, out=out)
            return
        fc = self.policy.first_contact
        rule = RuleId.MINOR_REQUEST_MESSAGE
        pending = conn is not None and conn.status is _PENDING and conn.requester == sender
        if not pending or conn is None:
            self.emit(out, self.no_first_contact(sender, s_rec, recipient, at))
            return
        problem = None
        if conn.request_messages >= fc.minor_request_messages:
            problem = (
                f"{conn.request_messages} request message(s) already sent "
                f"(limit {fc.minor_request_messages})"
            )
        elif event.has_media and not fc.minor_request_message_media:
            problem = "a request message must be text only (it carries media)"
        elif event.forward_count > 0:
            problem = "a request message must be the sender's own text (it is a forward)"
        evidence = facts(request_messages=conn.request_messages, has_media=event.has_media)
        thresholds = facts(minor_request_messages=fc.minor_request_messages)
        if problem is not None:
            text = (
                f"refused by rule {rule.value}: minor '{sender}' has a pending request to minor "
                f"'{recipient}'; {problem}"
            )
            self.emit(out, Decision(Action.REFUSE, rule, text, at, sender, evidence, thresholds))
            return
        conn.request_messages += 1
        self.store.put_connection(conn)
        text = (
            f"allowed by rule {rule.value}: request message {conn.request_messages} of "
            f"{fc.minor_request_messages} from minor '{sender}' to minor '{recipient}', text only"
        )
        self.emit(out, Decision(Action.ALLOW, rule, text, at, sender, evidence, thresholds))

    def no_first_contact(
        self, sender: str, s_rec: AccountRecord | None, minor: str, at: float
    ) -> Decision:
        rule = RuleId.NO_FIRST_CONTACT
        word = self.band_word(s_rec, at)
        hint = "; send a contact request first" if word != "adult" else ""
        return Decision(
            Action.REFUSE,
            rule,
            f"refused by rule {rule.value}: {word} '{sender}' is not a connection of minor "
            f"'{minor}'{hint}",
            at,
            subject=sender,
            evidence=facts(sender_band=word, connected=False),
        )

    def suspicious_block(self, adult: str, minor: str, at: float, subject: str) -> Decision:
        found = self.criteria(adult, at)
        rule = RuleId.SUSPICIOUS_BLOCK
        return Decision(
            Action.REFUSE,
            rule,
            f"refused by rule {rule.value}: adult '{adult}' meets suspicious-adult criteria "
            + "; ".join(f"{c.rule_id.value}: {c.explanation}" for c in found)
            + f" — no new contact with minor '{minor}'",
            at,
            subject=subject,
            evidence=facts(criteria=",".join(c.rule_id.value for c in found)),
        )

    def _blocked(self, sender: str, recipient: str, at: float) -> Decision:
        rule = RuleId.BLOCKED
        return Decision(
            Action.REFUSE,
            rule,
            f"refused by rule {rule.value}: '{recipient}' has blocked '{sender}'",
            at,
            sender,
        )

    # ---- rule 4 ------------------------------------------------------------------------------
    def _suspicious_chat(
        self, adult: str, minor: str, at: float, out: list[Decision], *, track: bool
    ) -> None:
        """Notice to ``minor`` if ``adult`` is suspicious. ``track`` remembers an unconnected chat
        (connections are found through the contact list when the adult is flagged)."""
        if track:
            self.store.add_minor_chat(adult, minor)
        found = self.criteria(adult, at)
        if found:
            self.suspicious_notice(adult, minor, found, at, out)

    def _new_contact_notices(
        self,
        event: MessageSent,
        s_minor: bool,
        minor: str,
        age: float,
        out: list[Decision],
    ) -> None:
        """Rule 4 (b)-(d) for a send from a contact of ``age`` seconds to ``minor``."""
        at, sender = event.at, event.sender
        if self.family(self.store.account(sender), minor):
            return  # guardian-confirmed family: no new-contact notices
        p = self.policy.notices
        m_rec = self.store.account(minor)
        young = self.is_young_minor(m_rec, at)
        media_window = (
            p.young_minor_new_media_contact_hours if young else p.new_media_contact_hours
        ) * HOUR
        contact_window = p.new_contact_days * DAY
        adult_new = not s_minor and age < contact_window
        if not (adult_new or (event.has_media and age < media_window)):
            return
        pair = self.store.pair(sender, minor)
        if pair is None:
            pair = PairActivity(sender, minor, at, SlidingCount(p.burst_window_minutes * 60))
        pair.messages += 1
        pair.last_at = at
        cooldown = p.notice_cooldown_hours * HOUR
        if adult_new:
            in_window = pair.burst.add(at)
            if in_window >= p.burst_messages:
                text = (
                    f"{in_window} messages in {p.burst_window_minutes:g} min from adult "
                    f"'{sender}', a contact of {age / DAY:.1f} days (threshold {p.burst_messages} "
                    f"in {p.burst_window_minutes:g} min, contacts under "
                    f"{p.new_contact_days:g} days)"
                )
                evidence = facts(messages=in_window, contact_age_days=round(age / DAY, 2))
                limits = facts(
                    burst_messages=p.burst_messages,
                    burst_window_minutes=p.burst_window_minutes,
                    new_contact_days=p.new_contact_days,
                )
                kind = NoticeKind.MESSAGE_BURST
                self.notice(
                    out,
                    RuleId.NOTICE_BURST,
                    kind,
                    minor,
                    sender,
                    at,
                    cooldown,
                    text,
                    evidence,
                    limits,
                )
            self._late_night(sender, minor, m_rec, young, age, at, cooldown, out)
        if event.has_media and age < media_window and pair.first_media_at is None:
            pair.first_media_at = at
            text = (
                f"first media from '{sender}', a contact of {age / HOUR:.1f} h "
                f"(threshold {media_window / HOUR:g} h)"
            )
            evidence = facts(contact_age_hours=round(age / HOUR, 2))
            limits = facts(new_media_contact_hours=media_window / HOUR)
            kind = NoticeKind.FIRST_MEDIA
            self.notice(
                out, RuleId.NOTICE_FIRST_MEDIA, kind, minor, sender, at, 0.0, text, evidence, limits
            )
        self.store.put_pair(pair)

    def _late_night(
        self,
        sender: str,
        minor: str,
        m_rec: AccountRecord | None,
        young: bool,
        age: float,
        at: float,
        cooldown: float,
        out: list[Decision],
    ) -> None:
        p = self.policy.notices
        offset = m_rec.utc_offset_minutes if m_rec is not None else None
        if offset is None:
            country = m_rec.country if m_rec is not None else None
            offset = p.country_utc_offset_minutes.get(country or "", p.default_utc_offset_minutes)
        hour = int(((at + offset * 60) % DAY) // HOUR)
        start = p.young_minor_late_night_start_hour if young else p.late_night_start_hour
        end = p.late_night_end_hour
        late = (start <= hour or hour < end) if start > end else (start <= hour < end)
        if late:
            text = (
                f"message at {hour:02d}:xx local time for minor '{minor}' from adult '{sender}', "
                f"a contact of {age / DAY:.1f} days (late night {start:02d}:00-{end:02d}:00, "
                f"contacts under {p.new_contact_days:g} days)"
            )
            evidence = facts(
                local_hour=hour, utc_offset_minutes=offset, contact_age_days=round(age / DAY, 2)
            )
            limits = facts(
                late_night_start_hour=start,
                late_night_end_hour=end,
                new_contact_days=p.new_contact_days,
            )
            kind = NoticeKind.LATE_NIGHT
            self.notice(
                out,
                RuleId.NOTICE_LATE_NIGHT,
                kind,
                minor,
                sender,
                at,
                cooldown,
                text,
                evidence,
                limits,
            )
