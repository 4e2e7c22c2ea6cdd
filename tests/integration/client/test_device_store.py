"""The SDK on the encrypted append-only device store: durable before ack, conversion, growth."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.unit.client.fixtures import legacy_save

from fulcrum.client.core import ReceivedMessage
from fulcrum.client.home import KEY_FILE, LOG_FILE, STATE_FILE, DeviceHome
from fulcrum.client.sdk import FulcrumClient
from fulcrum.e2ee.at_rest import new_salt, storage_key

from .conftest import PASS, World

pytestmark = pytest.mark.integration


def texts(outcomes: list[object]) -> list[str]:
    return [o.text for o in outcomes if isinstance(o, ReceivedMessage)]


def on_disk_history(home: Path) -> list[str]:
    """The history a fresh process would load from the home right now."""
    reader = DeviceHome(home)
    reader.unlock_with(PASS)
    core, _ = reader.load()
    assert reader.log is not None
    reader.log.close()
    return [h["text"] for h in core.history]


async def test_messages_are_durable_before_they_are_acknowledged(
    world: World, tmp_path: Path
) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    attachment = tmp_path / "notes.txt"
    attachment.write_bytes(b"attached " * 20)
    for i in range(3):
        await alice.send_text("bob", f"durable {i}", [attachment] if i == 1 else [])
    acked: list[list[int]] = []
    real_ack = bob.transport.ack

    async def checking_ack(seqs: list[int]) -> None:
        assert on_disk_history(world.root / "bob")[-3:] == [f"durable {i}" for i in range(3)]
        saved = list((world.root / "bob" / "files").iterdir())
        assert [p.read_bytes() for p in saved] == [attachment.read_bytes()]
        acked.append(list(seqs))
        await real_ack(seqs)

    bob.transport.ack = checking_ack  # type: ignore[method-assign]
    assert texts(await bob.sync()) == [f"durable {i}" for i in range(3)]
    assert acked and len(acked[0]) == 3


async def test_log_grows_by_the_new_message_not_the_history(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    log = world.root / "bob" / LOG_FILE
    growth = []
    for i in range(12):
        await alice.send_text("bob", f"message {i:03d}")
        before = log.stat().st_size
        assert texts(await bob.sync()) == [f"message {i:03d}"]
        growth.append(log.stat().st_size - before)
    # After the first few (new session, directory), each message appends about the same bytes.
    assert max(growth[4:]) - min(growth[4:]) < 200, growth
    await bob.close()
    again = await FulcrumClient.open(world.root / "bob", PASS)
    world.clients.append(again)
    assert [h["text"] for h in again.core.history][-12:] == [f"message {i:03d}" for i in range(12)]


async def test_home_in_the_earlier_format_is_converted_once(world: World, tmp_path: Path) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await alice.send_text("bob", "before conversion")
    assert texts(await bob.sync()) == ["before conversion"]
    core, state = bob.core, bob.state
    await bob.close()
    home = world.root / "bob"
    salt = new_salt()
    old = tmp_path / "old-bob"
    legacy_save(old, core, state, storage_key(PASS, salt, 10), salt)
    for name in (KEY_FILE, LOG_FILE):
        (home / name).unlink()
    shutil.copy(old / STATE_FILE, home / STATE_FILE)

    converted = await FulcrumClient.open(home, PASS)
    world.clients.append(converted)
    assert not (home / STATE_FILE).exists() and (home / KEY_FILE).exists()
    assert [h["text"] for h in converted.core.history] == ["before conversion"]
    await alice.send_text("bob", "after conversion")
    assert texts(await converted.sync()) == ["after conversion"]
    await converted.close()
    reopened = await FulcrumClient.open(home, PASS)
    world.clients.append(reopened)
    assert [h["text"] for h in reopened.core.history] == ["before conversion", "after conversion"]
