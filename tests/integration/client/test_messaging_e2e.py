"""End-to-end messaging through a real server on loopback (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fulcrum.client.core import Applied, ReceivedMessage, Rejected
from fulcrum.client.home import KEY_FILE, LOG_FILE
from fulcrum.client.sdk import FulcrumClient
from fulcrum.client.transport import ApiError
from fulcrum.e2ee import DecryptionFailed
from fulcrum.encoding import b64d, b64e

from .conftest import PASS, World

pytestmark = pytest.mark.integration

MARKER = "PLAINTEXT-MARKER-7f3a9c"


def texts(outcomes: list[object]) -> list[str]:
    return [o.text for o in outcomes if isinstance(o, ReceivedMessage)]


async def test_direct_round_trip_and_reply(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await alice.send_text("bob", "hello bob")
    assert texts(await bob.sync()) == ["hello bob"]
    await bob.send_text("alice", "hello alice")
    assert texts(await alice.sync()) == ["hello alice"]
    assert await bob.sync() == []  # acked: nothing is delivered twice


async def test_offline_delivery_keeps_order(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    for i in range(5):
        await alice.send_text("bob", f"message {i}")
    assert texts(await bob.sync()) == [f"message {i}" for i in range(5)]


async def test_multi_device_fan_out(world: World, tmp_path: Path) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    laptop = await bob.link_device(tmp_path / "bob-laptop", PASS, log2_n=10)
    world.clients.append(laptop)
    await alice.send_text("bob", "to both of bob's devices")
    assert texts(await bob.sync()) == ["to both of bob's devices"]
    assert texts(await laptop.sync()) == ["to both of bob's devices"]
    await laptop.send_text("alice", "from the laptop")
    assert texts(await alice.sync()) == ["from the laptop"]
    assert texts(await bob.sync()) == ["from the laptop"]  # own other device gets a copy


async def test_attachment_round_trip(world: World, tmp_path: Path) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    path = tmp_path / "notes.txt"
    path.write_bytes(b"attachment body " * 1000)
    await alice.send_text("bob", "see attached", [path])
    [message] = [o for o in await bob.sync() if isinstance(o, ReceivedMessage)]
    (key, data) = message.attachments[0]
    assert data == path.read_bytes()
    assert key.name == "notes.txt"
    assert bob.saved_path(key, data).read_bytes() == data


async def test_group_round_trip_and_removed_member_cannot_read(world: World) -> None:
    alice, bob, carol = (
        await world.user("alice"),
        await world.user("bob"),
        await world.user("carol"),
    )
    await alice.create_group("club", ["bob", "carol"])
    await alice.send_group("club", "first")
    assert texts(await bob.sync()) == ["first"]
    assert texts(await carol.sync()) == ["first"]
    await alice.change_members("club", remove=["carol"])
    await alice.send_group("club", "after carol left")
    bob_page = await bob.transport.queue()
    group_item = next(i for i in bob_page.items if i.kind == "message")
    # Even given the ciphertext, carol's device cannot decrypt: the session was rotated.
    carol.core.update_directory(await carol.transport.devices("alice"))
    forged = group_item.model_copy(update={"seq": 10**9})
    outcome = carol.core.open(forged)
    assert isinstance(outcome, Rejected)
    assert texts(await bob.sync()) == ["after carol left"]
    assert texts(await carol.sync()) == []
    with pytest.raises(ApiError) as err:
        await carol.send_group("club", "can I still post?")
    assert err.value.status in (403, 404)  # a non-member may not even learn the group exists


async def test_out_of_order_delivery_and_replay(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await alice.send_text("bob", "0")
    await bob.sync()
    for i in range(1, 4):
        await alice.send_text("bob", str(i))
    items = (await bob.transport.queue()).items
    bob.core.update_directory(await bob.transport.devices("alice"))
    results = []
    for item in reversed(items):  # deliver 3, 2, 1
        opened = bob.core.open(item)
        assert not isinstance(opened, (Rejected, Applied))
        results.append(bob.core.accept(opened, {}, 0.0))
    assert [r.text for r in results if isinstance(r, ReceivedMessage)] == ["3", "2", "1"]
    # A replay of an already shown message is recognised and never shown twice.
    assert bob.core.is_duplicate(items[0])


async def test_tampered_message_not_displayed(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await alice.send_text("bob", "hello")
    await bob.sync()
    await alice.send_text("bob", "original text")
    item = (await bob.transport.queue()).items[0]
    body = bytearray(b64d(item.body))
    body[-1] ^= 1
    tampered = item.model_copy(update={"body": b64e(bytes(body))})
    opened = bob.core.open(tampered)
    assert not isinstance(opened, (Rejected, Applied))
    outcome = bob.core.accept(opened, {}, 0.0)
    assert isinstance(outcome, Rejected)
    assert bob.core.rejected_count == 1
    # A header that lies about the sender is refused too.
    await alice.send_text("bob", "another")
    item2 = (await bob.transport.queue()).items[-1]
    wrong = item2.model_copy(update={"conv": "dm:bob:mallory"})
    assert isinstance(bob.core.open(wrong), Rejected)


async def test_state_survives_client_and_server_restart(world: World, tmp_path: Path) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await alice.send_text("bob", "before restart")
    assert texts(await bob.sync()) == ["before restart"]
    await bob.close()
    bob2 = await FulcrumClient.open(world.root / "bob", PASS)
    world.clients.append(bob2)
    await alice.send_text("bob", "after restart")
    assert texts(await bob2.sync()) == ["after restart"]
    await alice.close()
    with pytest.raises(DecryptionFailed, match="passphrase"):
        await FulcrumClient.open(world.root / "alice", "not the passphrase")


async def test_no_plaintext_in_database_or_logs(
    world: World, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level("DEBUG")
    alice, bob = await world.user("alice"), await world.user("bob")
    path = tmp_path / "secret.txt"
    path.write_text(MARKER * 10)
    await alice.send_text("bob", f"the marker is {MARKER}", [path])
    await alice.create_group("g", ["bob"])
    await alice.send_group("g", f"group {MARKER}")
    assert len(texts(await bob.sync())) == 2
    blobs = b""
    for file in (world.server.settings.data_dir).rglob("*"):
        if file.is_file():
            blobs += file.read_bytes()
    for home in world.root.iterdir():
        for name in (KEY_FILE, LOG_FILE):  # the device store (files/ holds the saved attachment)
            blobs += (home / name).read_bytes()
    assert blobs  # the scan saw the database
    assert MARKER.encode() not in blobs
    assert MARKER not in caplog.text


async def test_push_channel_delivers_while_connected(world: World) -> None:
    import asyncio

    alice, bob = await world.user("alice"), await world.user("bob")
    got: list[str] = []

    def collect(outcomes: list[object]) -> None:
        got.extend(texts(outcomes))

    listener = asyncio.create_task(bob.listen(collect, duration=8.0))
    await asyncio.sleep(0.5)
    await alice.send_text("bob", "pushed to you")
    for _ in range(60):
        if got:
            break
        await asyncio.sleep(0.1)
    listener.cancel()
    assert got == ["pushed to you"]


async def test_ciphertexts_dropped_once_every_device_acked(world: World, tmp_path: Path) -> None:
    """Store-and-forward keeps a message's ciphertexts only until every recipient device acked."""
    from sqlalchemy import select

    from fulcrum.server.state import relay_state
    from fulcrum.store.models import Attachment, Message

    alice, bob = await world.user("alice"), await world.user("bob")
    laptop = await bob.link_device(tmp_path / "bob-laptop", PASS, log2_n=10)
    world.clients.append(laptop)
    path = tmp_path / "a.bin"
    path.write_bytes(b"attachment " * 50)
    await alice.send_text("bob", "kept until delivered", [path])
    db = relay_state(world.server.app).db

    def stored() -> tuple[bytes, bytes]:
        with db.read() as session:
            body = session.scalars(select(Message.body).where(Message.kind == "message")).one()
            blob = session.scalars(select(Attachment.blob)).one()
        return body, blob

    body, blob = stored()
    assert body and blob  # queued: ciphertexts are needed
    assert texts(await bob.sync()) == ["kept until delivered"]
    body, blob = stored()
    assert body and blob  # bob's laptop has not acked yet
    assert texts(await laptop.sync()) == ["kept until delivered"]
    assert stored() == (b"", b"")  # every device acked: nothing readable-later remains
