"""Minor protection (design note 07): the SQL side of ``fulcrum.safety.SafetyStore``.

The tables and their JSON codecs are in ``fulcrum.store.safety_tables`` (re-exported here). Age
data (birth year, country, creation time) are read from the relay's ``accounts`` table.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Set

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fulcrum.safety.decisions import Action, Decision, NoticeKind, RuleId
from fulcrum.safety.events import Reported
from fulcrum.safety.store import (
    AccountRecord,
    AdultSignals,
    ConnectionRecord,
    ConnectionStatus,
    PairActivity,
    pair_key,
)
from fulcrum.store.messages import MessageStore
from fulcrum.store.models import Account, Device
from fulcrum.store.records import Delivery, NewMessage
from fulcrum.store.safety_cache import AccountCache, load_accounts, load_blockers
from fulcrum.store.safety_tables import (
    SafetyAccount,
    SafetyBlock,
    SafetyConnection,
    SafetyDecision,
    SafetyDecisionCount,
    SafetyForward,
    SafetyMinorChat,
    SafetyNoticeSent,
    SafetyPair,
    SafetyReport,
    SafetySignals,
    signals_from_json,
    signals_json,
    sliding_from_json,
    sliding_json,
    upsert,
)


def _connection(row: SafetyConnection) -> ConnectionRecord:
    return ConnectionRecord(
        row.requester,
        row.recipient,
        ConnectionStatus(row.status),
        row.requested_at,
        row.decided_at,
        row.request_messages,
    )


class SqlSafetyStore:
    """``SafetyStore`` over one SQLAlchemy session (one request, one transaction).

    Accounts come from the process's ``AccountCache`` when one is given (else one SELECT per
    store), and blocks against one sender in one query, so a send between two adults costs one
    small SELECT."""

    def __init__(self, session: Session, accounts: AccountCache | None = None) -> None:
        self.session = session
        self.cache = accounts
        self._accounts: dict[str, AccountRecord | None] = {}
        self._written: set[str] = set()  # accounts changed in this transaction: not cached
        self._blocked_by: dict[str, set[str]] = {}  # blocked -> blockers, for prefetched scopes
        self._block_scope: dict[str, set[str]] = {}
        self._signals: dict[str, AdultSignals | None] = {}

    # ---- accounts --------------------------------------------------------------------------
    def prefetch(self, names: Iterable[str]) -> None:
        """Read the records of ``names`` (from the process cache, else in one SELECT)."""
        wanted = {n for n in names if n not in self._accounts}
        cache = self.cache
        if cache is not None:
            for name in list(wanted):
                hit = cache.get(name)
                if hit is not None:
                    self._accounts[name] = hit
                    wanted.discard(name)
        if not wanted:
            return
        found = load_accounts(self.session, wanted)
        for name in wanted:
            record = found.get(name)
            self._accounts[name] = record
            if record is not None and cache is not None and name not in self._written:
                cache.put(record)

    def account(self, account_id: str) -> AccountRecord | None:
        if account_id not in self._accounts:
            self.prefetch([account_id])
        return self._accounts.get(account_id)

    def put_account(self, record: AccountRecord) -> None:
        upsert(
            self.session,
            SafetyAccount,
            {
                "account": record.account_id,
                "banned": record.banned.value if record.banned else None,
                "links": [[o, k.value] for o, k in record.links],
                "utc_offset_minutes": record.utc_offset_minutes,
            },
            ("account",),
        )
        self._accounts[record.account_id] = record
        self._written.add(record.account_id)
        if self.cache is not None:
            self.cache.forget(record.account_id)

    # ---- connections -----------------------------------------------------------------------
    def connection(self, a: str, b: str) -> ConnectionRecord | None:
        x, y = pair_key(a, b)
        row = self.session.get(SafetyConnection, (x, y))
        return None if row is None else _connection(row)

    def connection_row(self, a: str, b: str) -> SafetyConnection | None:
        return self.session.get(SafetyConnection, pair_key(a, b))

    def put_connection(self, record: ConnectionRecord) -> None:
        x, y = pair_key(record.requester, record.recipient)
        row = self.session.get(SafetyConnection, (x, y))
        if row is None:
            row = SafetyConnection(a=x, b=y)
            self.session.add(row)
        row.requester, row.recipient = record.requester, record.recipient
        row.status = record.status.value
        row.requested_at, row.decided_at = record.requested_at, record.decided_at
        row.request_messages = record.request_messages
        self.session.flush()

    def delete_connection(self, a: str, b: str) -> None:
        x, y = pair_key(a, b)
        self.session.execute(
            delete(SafetyConnection).where(SafetyConnection.a == x, SafetyConnection.b == y)
        )

    def contacts(self, account_id: str) -> Set[str]:
        accepted = ConnectionStatus.ACCEPTED.value
        rows = self.session.execute(
            select(SafetyConnection.a, SafetyConnection.b).where(
                SafetyConnection.status == accepted,
                (SafetyConnection.a == account_id) | (SafetyConnection.b == account_id),
            )
        ).all()
        return frozenset(b if a == account_id else a for a, b in rows)

    # ---- blocks ----------------------------------------------------------------------------
    def prefetch_blocks(self, blocked: str, blockers: Iterable[str]) -> None:
        scope = set(blockers)
        self._block_scope[blocked] = scope
        self._blocked_by[blocked] = load_blockers(self.session, blocked, scope) if scope else set()

    def is_blocked(self, blocker: str, blocked: str) -> bool:
        if blocker in self._block_scope.get(blocked, ()):
            return blocker in self._blocked_by[blocked]
        return self.session.get(SafetyBlock, (blocker, blocked)) is not None

    def add_block(self, blocker: str, blocked: str, at: float) -> None:
        upsert(
            self.session,
            SafetyBlock,
            {"blocker": blocker, "blocked": blocked, "at": at},
            ("blocker", "blocked"),
        )
        if blocker in self._block_scope.get(blocked, ()):
            self._blocked_by[blocked].add(blocker)

    # ---- per-pair activity -----------------------------------------------------------------
    def pair(self, sender: str, recipient: str) -> PairActivity | None:
        row = self.session.get(SafetyPair, (sender, recipient))
        if row is None:
            return None
        return PairActivity(
            sender,
            recipient,
            row.first_at,
            sliding_from_json(row.burst),
            row.messages,
            row.last_at,
            row.first_media_at,
        )

    def put_pair(self, activity: PairActivity) -> None:
        upsert(
            self.session,
            SafetyPair,
            {
                "sender": activity.sender,
                "recipient": activity.recipient,
                "first_at": activity.first_at,
                "messages": activity.messages,
                "last_at": activity.last_at,
                "first_media_at": activity.first_media_at,
                "burst": sliding_json(activity.burst),
            },
            ("sender", "recipient"),
        )

    def minor_chats(self, adult: str) -> Set[str]:
        rows = self.session.scalars(
            select(SafetyMinorChat.minor).where(SafetyMinorChat.adult == adult)
        )
        return frozenset(rows)

    def add_minor_chat(self, adult: str, minor: str) -> None:
        upsert(self.session, SafetyMinorChat, {"adult": adult, "minor": minor}, ("adult", "minor"))

    # ---- rule 3 signals --------------------------------------------------------------------
    def signals(self, account_id: str) -> AdultSignals | None:
        if account_id in self._signals:
            return self._signals[account_id]
        row = self.session.get(SafetySignals, account_id)
        sig = None if row is None else signals_from_json(account_id, row.data)
        self._signals[account_id] = sig
        return sig

    def put_signals(self, signals: AdultSignals) -> None:
        data = json.loads(json.dumps(signals_json(signals)))
        upsert(
            self.session, SafetySignals, {"account": signals.account_id, "data": data}, ("account",)
        )
        self._signals[signals.account_id] = signals

    # ---- rule 6 forward batches ------------------------------------------------------------
    def add_forward(self, sender: str, batch: str, conversation: str, at: float) -> int:
        started = self.session.scalar(
            select(func.min(SafetyForward.started_at)).where(
                SafetyForward.sender == sender, SafetyForward.batch == batch
            )
        )
        upsert(
            self.session,
            SafetyForward,
            {
                "sender": sender,
                "batch": batch,
                "conversation": conversation,
                "started_at": at if started is None else started,
            },
            ("sender", "batch", "conversation"),
        )
        count = self.session.scalar(
            select(func.count()).where(SafetyForward.sender == sender, SafetyForward.batch == batch)
        )
        return int(count or 0)

    def expire_forward_batches(self, before: float) -> None:
        self.session.execute(delete(SafetyForward).where(SafetyForward.started_at < before))

    # ---- notices ---------------------------------------------------------------------------
    def last_notice(self, kind: NoticeKind, notify: str, other: str) -> float | None:
        row = self.session.get(SafetyNoticeSent, (kind.value, notify, other))
        return None if row is None else row.at

    def put_notice(self, kind: NoticeKind, notify: str, other: str, at: float) -> None:
        upsert(
            self.session,
            SafetyNoticeSent,
            {"kind": kind.value, "notify": notify, "other": other, "at": at},
            ("kind", "notify", "other"),
        )

    # ---- reports ---------------------------------------------------------------------------
    def add_report(self, report: Reported) -> None:
        self.session.add(
            SafetyReport(
                reporter=report.reporter,
                reported=report.reported,
                at=report.at,
                involves_child=report.involves_child,
                report_id=report.report_id,
                conversation=report.conversation,
            )
        )

    def reports_against(self, account_id: str) -> list[Reported]:
        rows = self.session.scalars(
            select(SafetyReport)
            .where(SafetyReport.reported == account_id)
            .order_by(SafetyReport.id)
        )
        return [
            Reported(r.reporter, r.reported, r.at, r.involves_child, r.report_id, r.conversation)
            for r in rows
        ]

    # ---- decisions -------------------------------------------------------------------------
    def count_decision(self, day: int, rule_id: RuleId, action: Action) -> None:
        row = self.session.get(SafetyDecisionCount, (day, rule_id.value, action.value))
        if row is None:
            self.session.add(
                SafetyDecisionCount(day=day, rule_id=rule_id.value, action=action.value, count=1)
            )
        else:
            row.count += 1
        self.session.flush()

    def decision_counts(self, first_day: int, last_day: int) -> dict[tuple[RuleId, Action], int]:
        rows = self.session.execute(
            select(
                SafetyDecisionCount.rule_id,
                SafetyDecisionCount.action,
                func.sum(SafetyDecisionCount.count),
            )
            .where(SafetyDecisionCount.day.between(first_day, last_day))
            .group_by(SafetyDecisionCount.rule_id, SafetyDecisionCount.action)
        ).all()
        return {(RuleId(r), Action(a)): int(n) for r, a, n in rows}

    def record_decisions(self, decisions: Iterable[Decision]) -> None:
        """Write the audit record of each decision (explanation, evidence, thresholds)."""
        for d in decisions:
            self.session.add(
                SafetyDecision(
                    at=d.at,
                    rule_id=d.rule_id.value,
                    action=d.action.value,
                    subject=d.subject,
                    notify=d.notify,
                    explanation=d.explanation,
                    evidence=dict(d.evidence),
                    thresholds=dict(d.thresholds),
                    priority=d.priority.value if d.priority else None,
                )
            )
        self.session.flush()

    def decisions_about(self, subject: str) -> list[SafetyDecision]:
        return list(
            self.session.scalars(
                select(SafetyDecision)
                .where(SafetyDecision.subject == subject)
                .order_by(SafetyDecision.id)
            )
        )


# ---- safety notices through the relay queue ---------------------------------------------------

PLATFORM_SENDER = "~fulcrum"  # outside the account-name pattern: no user can register it
NOTICE_CONTENT_TYPE = "application/vnd.fulcrum.notice+json"


def _ensure_platform_sender(session: Session, now_ms: int) -> None:
    if session.get(Account, PLATFORM_SENDER) is not None:
        return
    session.add(
        Account(
            name=PLATFORM_SENDER, birth_year=None, country=None, created_at=now_ms, suspended=True
        )
    )
    session.flush()
    session.add(
        Device(
            id=PLATFORM_SENDER,
            account=PLATFORM_SENDER,
            identity_key="",
            signing_key="",
            token_hash="-no-token-",  # noqa: S106 - not a SHA-256 hex digest: cannot authenticate
            created_at=now_ms,
        )
    )
    session.flush()


def enqueue_notice(
    session: Session, account: str, notice: str, text: str, now_ms: int
) -> list[tuple[str, int]]:
    """Queue a safety notice (kind ``notice``) for every device of ``account``.

    The body is ``{"notice": code, "text": ...}`` as JSON: platform text about metadata, never
    message content. Returns ``(device_id, seq)`` pairs to push after commit."""
    devices = list(session.scalars(select(Device.id).where(Device.account == account)))
    if not devices:
        return []
    _ensure_platform_sender(session, now_ms)
    body = json.dumps({"notice": notice, "text": text}, separators=(",", ":")).encode("utf-8")
    msg_id = secrets.token_urlsafe(16)
    conv = f"notice:{account}"
    record = NewMessage(
        msg_id=msg_id,
        sender_account=PLATFORM_SENDER,
        sender_device=PLATFORM_SENDER,
        conv=conv,
        kind="notice",
        content_type=NOTICE_CONTENT_TYPE,
        body=body,
        commitment=None,
        escrow=None,
        group_id=None,
        membership_epoch=None,
        group_ratchet=None,
        extensions={},
        server_ts=now_ms,
        content_hash=hashlib.sha256(body).hexdigest(),
        env={"sender": PLATFORM_SENDER, "conv": conv, "msg_id": msg_id, "server_ts": now_ms},
    )
    _, pushes = MessageStore(session).accept(record, [Delivery(d) for d in devices])
    return pushes


__all__ = [
    "NOTICE_CONTENT_TYPE",
    "PLATFORM_SENDER",
    "SafetyAccount",
    "SafetyBlock",
    "SafetyConnection",
    "SafetyDecision",
    "SafetyDecisionCount",
    "SafetyForward",
    "SafetyMinorChat",
    "SafetyNoticeSent",
    "SafetyPair",
    "SafetyReport",
    "SafetySignals",
    "SqlSafetyStore",
    "enqueue_notice",
]
