"""Repository behaviour on an in-memory SQLite database (no files, no network)."""

from __future__ import annotations

import threading

import pytest

from fulcrum.store import (
    AccountDirectory,
    AckRefused,
    Database,
    Delivery,
    DeliveryQueue,
    GroupDirectory,
    KeyDirectory,
    MessageStore,
    NewMessage,
)
from fulcrum.store.database import current_heads

pytestmark = pytest.mark.unit


@pytest.fixture
def db(tmp_path) -> Database:
    database = Database.connect(f"sqlite:///{tmp_path / 'unit.db'}")
    database.migrate()
    yield database
    database.dispose()


def _accounts(db: Database, *names: str) -> None:
    with db.write() as s:
        d = AccountDirectory(s)
        for n in names:
            d.create(n, birth_year=None, country=None, created_at=0)
            d.add_device(
                device_id=f"dev-{n}",
                account=n,
                identity_key="i" * 43,
                signing_key="s" * 43,
                token_hash=f"{n:0<64}",
                created_at=0,
            )


def _message(msg_id: str = "m" * 22) -> NewMessage:
    return NewMessage(
        msg_id=msg_id,
        sender_account="alice",
        sender_device="dev-alice",
        conv="dm:alice:bob",
        kind="message",
        content_type="text/plain",
        body=b"ct",
        commitment=None,
        escrow=None,
        group_id=None,
        membership_epoch=None,
        group_ratchet=None,
        extensions={},
        server_ts=1,
        content_hash="h",
        env={"msg_id": msg_id},
    )


def test_migrations_are_idempotent_and_at_head(db: Database):
    heads = current_heads(db.engine)
    db.migrate()
    assert heads and current_heads(db.engine) == heads


def test_models_match_migrations(db: Database):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from fulcrum.store.models import Base

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    # other packages keep their tables in their own metadata: compare only the relay's tables
    def foreign(d) -> bool:
        if d[0] == "remove_table":
            return d[1].name not in Base.metadata.tables
        if d[0] == "remove_index":
            return d[1].table.name not in Base.metadata.tables
        return False

    ours = [d for d in diff if not foreign(d)]
    assert ours == []


def test_token_lookup(db: Database):
    _accounts(db, "alice")
    with db.read() as s:
        dev = AccountDirectory(s).device_for_token("alice".ljust(64, "0"))
        assert dev is not None and dev.account == "alice"
        assert AccountDirectory(s).device_for_token("0" * 64) is None


def test_one_time_keys_claimed_once_then_fallback(db: Database):
    _accounts(db, "alice")
    with db.write() as s:
        keys = KeyDirectory(s)
        assert keys.upload("dev-alice", {"a": "k" * 43, "b": "l" * 43}, {"f": "f" * 43}) == 2
        assert keys.upload("dev-alice", {"a": "k" * 43}) == 0  # known ids are ignored
        dev = AccountDirectory(s).device("alice", "dev-alice")
    assert dev is not None
    claims = []
    for _ in range(3):
        with db.write() as s:
            claims.append(KeyDirectory(s).claim(dev))
    assert [c.key_id for c in claims if c] == ["a", "b", "f"]
    assert [c.fallback for c in claims if c] == [False, False, True]


def test_concurrent_claims_distinct(db: Database):
    _accounts(db, "alice")
    with db.write() as s:
        KeyDirectory(s).upload("dev-alice", {f"k{i}": "k" * 43 for i in range(40)})
        dev = AccountDirectory(s).device("alice", "dev-alice")
    assert dev is not None
    got: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            with db.write() as s:
                c = KeyDirectory(s).claim(dev)
            if c is not None:
                with lock:
                    got.append(c.key_id)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(f"k{i}" for i in range(40))


def test_queue_ack_all_or_nothing(db: Database):
    _accounts(db, "alice", "bob", "carol")
    with db.write() as s:
        _, pushes = MessageStore(s).accept(
            _message(), [Delivery("dev-bob", 1, b"o1"), Delivery("dev-carol", 1, b"o2")]
        )
    seqs = dict(pushes)
    with pytest.raises(AckRefused), db.write() as s:
        DeliveryQueue(s).ack("dev-bob", [seqs["dev-bob"], seqs["dev-carol"]])
    with db.read() as s:
        assert DeliveryQueue(s).pending_count("dev-bob") == 1
        assert DeliveryQueue(s).depth() == 2
    with db.write() as s:
        assert DeliveryQueue(s).ack("dev-bob", [seqs["dev-bob"]]) == 1
    with db.read() as s:
        items, more = DeliveryQueue(s).page("dev-carol", after=0, limit=10)
        assert [i.ratchet_body for i in items] == [b"o2"] and not more
        assert DeliveryQueue(s).page("dev-bob", after=0, limit=10) == ([], False)


def test_group_membership_epoch(db: Database):
    _accounts(db, "alice", "bob", "carol")
    with db.write() as s:
        g = GroupDirectory(s).create("g", creator="alice", members=["bob"], created_at=0)
        assert g.members == ("alice", "bob") and g.admins == ("alice",)
        g = GroupDirectory(s).change("g", add=["carol"], remove=["bob"])
    assert g.members == ("alice", "carol") and g.membership_epoch == 1
