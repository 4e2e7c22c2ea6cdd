"""The safety store's per-process account cache and lean queries (no behaviour change)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event

from fulcrum.safety.events import BanReason
from fulcrum.safety.store import AccountRecord
from fulcrum.store import AccountDirectory, Database
from fulcrum.store.safety import SqlSafetyStore
from fulcrum.store.safety_cache import AccountCache

pytestmark = pytest.mark.unit


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database.connect(f"sqlite:///{tmp_path / 'unit.db'}")
    database.migrate()
    with database.write() as s:
        for name, year in (("ann", 1980), ("bob", 2012)):
            AccountDirectory(s).create(name, birth_year=year, country="GB", created_at=1000)
    return database


def selects(db: Database) -> list[str]:
    seen: list[str] = []
    event.listen(
        db.engine, "before_cursor_execute", lambda *a: seen.append(a[2].split()[0].upper())
    )
    return seen


def test_records_come_from_the_cache_after_the_first_read(db: Database) -> None:
    cache = AccountCache()
    with db.read() as s:
        first = SqlSafetyStore(s, cache)
        first.prefetch(["ann", "bob", "nobody"])
        assert first.account("ann") is not None and first.account("ann").birth_year == 1980
        assert first.account("nobody") is None
    assert len(cache) == 2  # unknown accounts are not cached
    seen = selects(db)
    with db.read() as s:
        again = SqlSafetyStore(s, cache)
        again.prefetch(["ann", "bob"])
        assert again.account("bob") is not None and again.account("bob").birth_year == 2012
    assert "SELECT" not in seen


def test_a_write_forgets_the_entry_and_is_not_cached_in_its_transaction(db: Database) -> None:
    cache = AccountCache()
    with db.read() as s:
        SqlSafetyStore(s, cache).prefetch(["ann"])
    with db.write() as s:
        store = SqlSafetyStore(s, cache)
        rec = store.account("ann")
        assert rec is not None
        store.put_account(replace(rec, banned=BanReason.CHILD_SAFETY))
        assert cache.get("ann") is None
        store.prefetch(["ann"])
        assert cache.get("ann") is None
    with db.read() as s:
        fresh = SqlSafetyStore(s, cache).account("ann")
        assert fresh is not None and fresh.banned is BanReason.CHILD_SAFETY
    assert cache.get("ann") is not None


def test_entries_expire_after_ttl_and_the_cache_is_bounded() -> None:
    now = [0.0]
    cache = AccountCache(ttl=10.0, max_entries=2, clock=lambda: now[0])
    for name in ("a", "b", "c"):
        cache.put(AccountRecord(name, 0.0, 1990, None, None))
    assert len(cache) == 2 and cache.get("a") is None and cache.get("c") is not None
    now[0] = 10.5
    assert cache.get("c") is None


def test_blocks_are_read_every_time(db: Database) -> None:
    cache = AccountCache()
    with db.write() as s:
        store = SqlSafetyStore(s, cache)
        store.prefetch_blocks("ann", ["bob"])
        assert not store.is_blocked("bob", "ann")
        store.add_block("bob", "ann", 1.0)
        assert store.is_blocked("bob", "ann")
    with db.read() as s:
        store = SqlSafetyStore(s, cache)
        store.prefetch_blocks("ann", ["bob"])
        assert store.is_blocked("bob", "ann")
        store.prefetch_blocks("bob", [])
        assert not store.is_blocked("ann", "bob")
