"""The batch-native send path's pieces: waves of repeated msg_ids, the batch safety store's
connection copy (read once, written through) and the directory view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fulcrum.safety.store import ConnectionRecord, ConnectionStatus
from fulcrum.server.relay.batch import waves
from fulcrum.server.safety.hooks import BatchSafetyStore
from fulcrum.server.sending import DirectoryView
from fulcrum.store import AccountDirectory, Database, DeliveryQueue, MessageStore
from fulcrum.store.records import Delivery, NewMessage
from fulcrum.wire.api import EnvelopeIn

pytestmark = pytest.mark.unit

MSG = ["AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBA", "CCCCCCCCCCCCCCCCCCCCCA"]


def _env(msg_id: str) -> EnvelopeIn:
    return EnvelopeIn.model_validate({"msg_id": msg_id, "conv": "dm:a:b", "body": "eA"})


def test_waves_put_each_repeat_after_its_previous_occurrence() -> None:
    a, b, c = MSG
    envs = [_env(x) for x in (a, b, a, c, a, b)]
    assert waves(envs) == [[0, 1, 3], [2, 5], [4]]
    assert waves([_env(a), _env(b)]) == [[0, 1]]
    # every index exactly once, and within a wave no msg_id twice
    for wave in waves(envs):
        ids = [envs[i].msg_id for i in wave]
        assert len(ids) == len(set(ids))
    assert sorted(i for w in waves(envs) for i in w) == list(range(len(envs)))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.connect(f"sqlite:///{tmp_path / 'units.db'}", pool_size=2)
    database.migrate()
    with database.write() as session:
        accounts = AccountDirectory(session)
        for name in ("alice", "bob", "carol", "zed"):
            accounts.create(name, birth_year=1980, country="GB", created_at=0)
    yield database
    database.dispose()


def test_batch_store_reads_connections_once_and_writes_through(db: Database) -> None:
    accepted = ConnectionRecord("bob", "alice", ConnectionStatus.ACCEPTED, 1.0, 2.0)
    with db.write() as session:
        BatchSafetyStore(session).put_connection(accepted)
    with db.write() as session:
        store = BatchSafetyStore(session)
        store.prefetch_connections("bob", ["alice", "carol", "zed", "bob"])
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        from sqlalchemy import event

        event.listen(session.get_bind(), "before_cursor_execute", count)
        try:
            assert store.connection("alice", "bob") == accepted  # both orders, from memory
            assert store.connection("bob", "alice") == accepted
            assert store.connection("bob", "zed") is None
            assert store.connection("carol", "bob") is None
            assert statements == []
            pending = ConnectionRecord("bob", "zed", ConnectionStatus.PENDING, 3.0)
            store.put_connection(pending)  # write-through
            assert store.connection("zed", "bob") == pending
            store.delete_connection("alice", "bob")
            assert store.connection("bob", "alice") is None
            assert store.connection("alice", "carol") is None  # not prefetched: read from SQL
            assert any("safety_connections" in s for s in statements)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", count)
    with db.read() as session:  # the writes reached the database, not only the copy
        fresh = BatchSafetyStore(session)
        assert fresh.connection("bob", "zed") == ConnectionRecord(
            "bob", "zed", ConnectionStatus.PENDING, 3.0
        )
        assert fresh.connection("alice", "bob") is None


def test_directory_view_answers_like_the_directory(db: Database) -> None:
    with db.write() as session:
        accounts = AccountDirectory(session)
        for i, name in enumerate(("bob", "alice", "bob")):
            accounts.add_device(
                device_id=f"d{i}-{name}", account=name, identity_key="x", signing_key="y",
                token_hash=f"{i}{name}".ljust(64, "0"), created_at=0,
            )  # fmt: skip
    with db.read() as session:
        view = DirectoryView(session)
        view.prefetch(["bob", "carol"])
        direct = AccountDirectory(session)
        for names in (["alice", "bob"], ["bob"], ["carol"], ["zed", "alice", "bob", "alice"]):
            assert view.devices_of(names) == direct.devices_of(names)
        assert view.group("no-such-group") is None


def _message(msg_id: str, sender: str = "alice") -> NewMessage:
    return NewMessage(
        msg_id=msg_id, sender_account=sender, sender_device=f"dev-{sender}", conv="dm:alice:bob",
        kind="message", content_type="text/plain", body=b"ct", commitment=None, escrow=None,
        group_id=None, membership_epoch=None, group_ratchet=None, extensions={}, server_ts=1,
        content_hash="h", env={},
    )  # fmt: skip


def test_accept_many_maps_every_queue_row_to_its_message(db: Database) -> None:
    with db.write() as session:
        accounts = AccountDirectory(session)
        for name, dev in (("alice", "dev-alice"), ("bob", "b1"), ("bob", "b2"), ("carol", "c1")):
            accounts.add_device(
                device_id=dev, account=name, identity_key="x", signing_key="y",
                token_hash=dev.ljust(64, "0"), created_at=0,
            )  # fmt: skip
    batch = [
        (_message(MSG[0]), [Delivery("b1"), Delivery("b2", 1, b"olm-b2")]),
        (_message(MSG[1]), []),
        (_message(MSG[2]), [Delivery("c1"), Delivery("b2")]),
    ]
    with db.write() as session:
        pushes = MessageStore(session).accept_many(batch)
    assert [sorted(d for d, _ in p) for p in pushes] == [["b1", "b2"], [], ["b2", "c1"]]
    with db.read() as session:
        queue = DeliveryQueue(session)
        for (message, _), queued in zip(batch, pushes, strict=True):
            for device, seq in queued:
                rows, _ = queue.page(device, after=seq - 1, limit=1)
                assert rows[0].seq == seq and rows[0].msg_id == message.msg_id
        b2, _ = queue.page("b2", after=0, limit=10)
        assert [r.msg_id for r in b2] == [MSG[0], MSG[2]] and b2[0].ratchet_body == b"olm-b2"
