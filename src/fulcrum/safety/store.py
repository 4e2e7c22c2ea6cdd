"""State the engine keeps, behind a small ``SafetyStore`` protocol.

``InMemorySafetyStore`` is the reference implementation (tests, benchmarks, the simulation harness);
the server backs the same protocol with SQL. Mutable state records (``ConnectionRecord``,
``PairActivity``, ``AdultSignals``) are read, changed by the engine, then written back with the
matching ``put_*`` call, so a SQL store can load and save them as rows.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Protocol

from fulcrum.safety.decisions import Action, Criterion, NoticeKind, RuleId
from fulcrum.safety.events import BanReason, LinkKind, Reported
from fulcrum.safety.windows import DistinctWindow, SlidingCount


@dataclass(frozen=True, slots=True)
class AccountRecord:
    account_id: str
    created_at: float | None  # None: the engine never saw the account being created
    birth_year: int | None
    country: str | None
    utc_offset_minutes: int | None
    banned: BanReason | None = None
    links: tuple[tuple[str, LinkKind], ...] = ()

    @property
    def banned_for_child_safety(self) -> bool:
        return self.banned is BanReason.CHILD_SAFETY


class ConnectionStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(slots=True)
class ConnectionRecord:
    """The relationship of an unordered pair (stored under its sorted pair of ids)."""

    requester: str
    recipient: str
    status: ConnectionStatus
    requested_at: float
    decided_at: float | None = None
    request_messages: int = 0  # messages sent on a pending minor-to-minor request


@dataclass(slots=True)
class PairActivity:
    """Messages from ``sender`` to the minor ``recipient`` (kept for pairs involving a minor)."""

    sender: str
    recipient: str
    first_at: float
    burst: SlidingCount
    messages: int = 0
    last_at: float = 0.0
    first_media_at: float | None = None


@dataclass(slots=True)
class AdultSignals:
    """Everything the suspicious-adult criteria (rule 3) look at for one adult account."""

    account_id: str
    fanout_day: DistinctWindow
    fanout_week: DistinctWindow
    # contact requests to minors in the acceptance window: minor -> time of the first request
    requests: dict[str, float] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    turned_down: set[str] = field(default_factory=set)  # declined by the minor or refused by rule 1
    initiated: set[str] = field(default_factory=set)  # first contacts while the account is new
    initiated_minors: set[str] = field(default_factory=set)
    complaint_at: float | None = None
    complaint_by: str | None = None
    complaint_kind: str | None = None  # "blocked" | "reported"
    cross_border_at: float | None = None
    cross_border_minor: str | None = None
    cross_border_countries: tuple[str, str] | None = None
    linked_banned: str | None = None
    flagged_rules: frozenset[RuleId] = frozenset()  # criteria already announced (restrict)
    review_queued: bool = False  # a review was queued during the current flag episode
    cache_until: float = float("-inf")  # cached criteria are valid before this time (next re-check)
    cache: tuple[Criterion, ...] = ()


class SafetyStore(Protocol):
    def account(self, account_id: str) -> AccountRecord | None: ...
    def put_account(self, record: AccountRecord) -> None: ...

    def connection(self, a: str, b: str) -> ConnectionRecord | None: ...
    def put_connection(self, record: ConnectionRecord) -> None: ...
    def delete_connection(self, a: str, b: str) -> None: ...
    def contacts(self, account_id: str) -> Set[str]: ...

    def is_blocked(self, blocker: str, blocked: str) -> bool: ...
    def add_block(self, blocker: str, blocked: str, at: float) -> None: ...

    # Optional, not part of the protocol: ``has_blocked_anyone(blocker) -> bool`` lets the engine
    # skip the block look-up on most sends (InMemorySafetyStore has it).

    def pair(self, sender: str, recipient: str) -> PairActivity | None: ...
    def put_pair(self, activity: PairActivity) -> None: ...
    def minor_chats(self, adult: str) -> Set[str]: ...
    def add_minor_chat(self, adult: str, minor: str) -> None: ...

    def signals(self, account_id: str) -> AdultSignals | None: ...
    def put_signals(self, signals: AdultSignals) -> None: ...

    def add_forward(self, sender: str, batch: str, conversation: str, at: float) -> int:
        """Record a forward send; return the distinct chats of ``batch`` so far (incl. this one)."""
        ...

    def expire_forward_batches(self, before: float) -> None: ...

    def last_notice(self, kind: NoticeKind, notify: str, other: str) -> float | None: ...
    def put_notice(self, kind: NoticeKind, notify: str, other: str, at: float) -> None: ...

    def add_report(self, report: Reported) -> None: ...
    def reports_against(self, account_id: str) -> list[Reported]: ...

    def count_decision(self, day: int, rule_id: RuleId, action: Action) -> None: ...
    def decision_counts(
        self, first_day: int, last_day: int
    ) -> dict[tuple[RuleId, Action], int]: ...


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


class InMemorySafetyStore:
    """Dict-backed ``SafetyStore``. Not thread-safe; one engine per store."""

    def __init__(self) -> None:
        self._accounts: dict[str, AccountRecord] = {}
        self._connections: dict[tuple[str, str], ConnectionRecord] = {}
        self._contacts: dict[str, set[str]] = {}
        self._blocks: set[tuple[str, str]] = set()
        self._blockers: set[str] = set()
        self._pairs: dict[tuple[str, str], PairActivity] = {}
        self._minor_chats: dict[str, set[str]] = {}
        self._signals: dict[str, AdultSignals] = {}
        self._batches: dict[tuple[str, str], set[str]] = {}
        self._batch_order: deque[tuple[float, tuple[str, str]]] = deque()
        self._notices: dict[tuple[NoticeKind, str, str], float] = {}
        self._reports: dict[str, list[Reported]] = {}
        self._counts: dict[tuple[int, RuleId, Action], int] = {}

    def account(self, account_id: str) -> AccountRecord | None:
        return self._accounts.get(account_id)

    def put_account(self, record: AccountRecord) -> None:
        self._accounts[record.account_id] = record

    def connection(self, a: str, b: str) -> ConnectionRecord | None:
        return self._connections.get((a, b) if a < b else (b, a))

    def put_connection(self, record: ConnectionRecord) -> None:
        a, b = record.requester, record.recipient
        self._connections[pair_key(a, b)] = record
        if record.status is ConnectionStatus.ACCEPTED:
            self._contacts.setdefault(a, set()).add(b)
            self._contacts.setdefault(b, set()).add(a)
        else:
            self._unlink(a, b)

    def delete_connection(self, a: str, b: str) -> None:
        self._connections.pop(pair_key(a, b), None)
        self._unlink(a, b)

    def _unlink(self, a: str, b: str) -> None:
        self._contacts.get(a, set()).discard(b)
        self._contacts.get(b, set()).discard(a)

    def contacts(self, account_id: str) -> Set[str]:
        return self._contacts.get(account_id, frozenset())

    def is_blocked(self, blocker: str, blocked: str) -> bool:
        return (blocker, blocked) in self._blocks

    def add_block(self, blocker: str, blocked: str, at: float) -> None:
        self._blocks.add((blocker, blocked))
        self._blockers.add(blocker)

    def has_blocked_anyone(self, blocker: str) -> bool:
        return blocker in self._blockers

    def pair(self, sender: str, recipient: str) -> PairActivity | None:
        return self._pairs.get((sender, recipient))

    def put_pair(self, activity: PairActivity) -> None:
        self._pairs[(activity.sender, activity.recipient)] = activity

    def minor_chats(self, adult: str) -> Set[str]:
        return self._minor_chats.get(adult, frozenset())

    def add_minor_chat(self, adult: str, minor: str) -> None:
        chats = self._minor_chats.get(adult)
        if chats is None:
            self._minor_chats[adult] = {minor}
        else:
            chats.add(minor)

    def signals(self, account_id: str) -> AdultSignals | None:
        return self._signals.get(account_id)

    def put_signals(self, signals: AdultSignals) -> None:
        self._signals[signals.account_id] = signals

    def add_forward(self, sender: str, batch: str, conversation: str, at: float) -> int:
        key = (sender, batch)
        chats = self._batches.get(key)
        if chats is None:
            chats = self._batches[key] = set()
            self._batch_order.append((at, key))
        chats.add(conversation)
        return len(chats)

    def expire_forward_batches(self, before: float) -> None:
        order = self._batch_order
        while order and order[0][0] < before:
            self._batches.pop(order.popleft()[1], None)

    def last_notice(self, kind: NoticeKind, notify: str, other: str) -> float | None:
        return self._notices.get((kind, notify, other))

    def put_notice(self, kind: NoticeKind, notify: str, other: str, at: float) -> None:
        self._notices[(kind, notify, other)] = at

    def add_report(self, report: Reported) -> None:
        self._reports.setdefault(report.reported, []).append(report)

    def reports_against(self, account_id: str) -> list[Reported]:
        return list(self._reports.get(account_id, ()))

    def count_decision(self, day: int, rule_id: RuleId, action: Action) -> None:
        key = (day, rule_id, action)
        self._counts[key] = self._counts.get(key, 0) + 1

    def decision_counts(self, first_day: int, last_day: int) -> dict[tuple[RuleId, Action], int]:
        totals: dict[tuple[RuleId, Action], int] = {}
        for (day, rule_id, action), n in self._counts.items():
            if first_day <= day <= last_day:
                totals[(rule_id, action)] = totals.get((rule_id, action), 0) + n
        return totals
