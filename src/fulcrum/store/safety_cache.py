"""The hot path of the safety store: account records cached per process, lean prebuilt queries.

A send between two adults needs both accounts' age data and whether the recipient blocked the
sender. Age data (birth year, creation time, country) never change once an account exists, so
``AccountCache`` keeps account records for the process; the safety columns (ban, links, UTC
offset) are refreshed after ``ttl`` seconds, and at once for changes made through this process
(``SqlSafetyStore.put_account`` forgets the entry). Accounts that do not exist are never cached.
Blocks are never cached: they are read with one prebuilt Core statement per send.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from fulcrum.safety.events import BanReason, LinkKind
from fulcrum.safety.store import AccountRecord
from fulcrum.store.models import Account
from fulcrum.store.safety_tables import SafetyAccount, SafetyBlock

_acc = Account.__table__.c
_sa = SafetyAccount.__table__.c
_blk = SafetyBlock.__table__.c

ACCOUNTS_QUERY = (
    select(
        _acc.name,
        _acc.created_at,
        _acc.birth_year,
        _acc.country,
        _sa.banned,
        _sa.links,
        _sa.utc_offset_minutes,
    )
    .select_from(Account.__table__.outerjoin(SafetyAccount.__table__, _sa.account == _acc.name))
    .where(_acc.name.in_(bindparam("names", expanding=True)))
)
BLOCKERS_QUERY = select(_blk.blocker).where(
    _blk.blocked == bindparam("blocked"), _blk.blocker.in_(bindparam("scope", expanding=True))
)


def load_accounts(session: Session, names: Iterable[str]) -> dict[str, AccountRecord]:
    """Account records for those of ``names`` that exist (one SELECT)."""
    rows = session.connection().execute(ACCOUNTS_QUERY, {"names": sorted(names)}).all()
    return {
        name: AccountRecord(
            name,
            created / 1000.0,
            year,
            country,
            offset,
            banned=BanReason(banned) if banned else None,
            links=tuple((str(o), LinkKind(k)) for o, k in (links or ())),
        )
        for name, created, year, country, banned, links, offset in rows
    }


def load_blockers(session: Session, blocked: str, scope: Iterable[str]) -> set[str]:
    """Which of ``scope`` have blocked ``blocked`` (one SELECT)."""
    params = {"blocked": blocked, "scope": sorted(scope)}
    return set(session.connection().execute(BLOCKERS_QUERY, params).scalars())


class AccountCache:
    """Account records shared by the safety stores of one process (thread-safe, bounded)."""

    def __init__(
        self,
        ttl: float = 60.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, AccountRecord]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, name: str) -> AccountRecord | None:
        """The cached record, or None when absent or older than ``ttl``."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is None or self.clock() - entry[0] > self.ttl:
                self.misses += 1
                return None
            self.hits += 1
            return entry[1]

    def put(self, record: AccountRecord) -> None:
        with self._lock:
            self._entries[record.account_id] = (self.clock(), record)
            self._entries.move_to_end(record.account_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)

    def __len__(self) -> int:
        return len(self._entries)


__all__ = ["ACCOUNTS_QUERY", "BLOCKERS_QUERY", "AccountCache", "load_accounts", "load_blockers"]
