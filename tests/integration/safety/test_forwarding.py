"""Forwarding (rule 6) through the real SDK and CLI: counts in the envelope, the franked metadata
and the payload; the relay's limits (5 chats, 1 once forwarded 5 times); tampered counts hidden."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.integration.client.conftest import PASS, World
from typer.testing import CliRunner

from fulcrum.cli.main import app
from fulcrum.client import forwarding
from fulcrum.client.core import ReceivedMessage, Rejected
from fulcrum.client.forwarding import ForwardLimitExceeded, ForwardRefused, forward, forward_count
from fulcrum.client.layers import OutgoingMessage
from fulcrum.client.sdk import FulcrumClient
from fulcrum.demo.embedded import EmbeddedServer

pytestmark = pytest.mark.integration


async def received(client: FulcrumClient) -> list[ReceivedMessage]:
    return [o for o in await client.sync() if isinstance(o, ReceivedMessage)]


async def original(world: World, peers: int) -> tuple[FulcrumClient, str, list[FulcrumClient]]:
    """alice sends bob a message; bob and ``peers`` other adults exist. Returns bob, the id."""
    alice = await world.user("alice")
    bob = await world.user("bob")
    others = [await world.user(f"p{i}") for i in range(peers)]
    await alice.send_text("bob", "meet at the station")
    [msg] = await received(bob)
    return bob, msg.msg_id, others


async def test_forward_reaches_five_chats_and_recipients_see_the_count(world: World) -> None:
    bob, msg_id, peers = await original(world, 6)
    done = await forward(bob, msg_id, [f"p{i}" for i in range(5)])
    assert done.forward_count == 1 and [t for t, _ in done.sent] == [f"p{i}" for i in range(5)]
    for peer in peers[:5]:
        [copy] = await received(peer)
        assert copy.text == "meet at the station" and copy.sender == "bob"
        assert forward_count(peer, copy.msg_id) == 1
        bundle = peer.core.layer_state["franking"]["bundles"][copy.msg_id]["bundle"]
        assert bundle["meta"]["forward_count"] == 1  # franked too
    assert forward_count(bob, msg_id) == 0  # the original is not a forward
    assert await received(peers[0]) == []
    # a second hop counts on
    p0 = peers[0]
    hop = p0.core.history[-1]["msg_id"]
    again = await forward(p0, hop, ["p5"])
    assert again.forward_count == 2
    [copy] = await received(peers[5])
    assert forward_count(peers[5], copy.msg_id) == 2


async def test_sixth_chat_is_refused_by_the_client_and_by_the_relay(world: World) -> None:
    bob, msg_id, _ = await original(world, 6)
    targets = [f"p{i}" for i in range(6)]
    with pytest.raises(ForwardLimitExceeded) as limited:
        await forward(bob, msg_id, targets)
    assert limited.value.limit == 5 and limited.value.chats == 6
    with pytest.raises(ForwardRefused) as refused:
        await forward(bob, msg_id, targets, check_limits=False)
    assert refused.value.target == "p5" and "R6-forward-limit" in refused.value.error.message
    assert [t for t, _ in refused.value.sent] == targets[:5]
    assert bob.state.outbox == []  # the refused copy is not retried


async def test_frequently_forwarded_message_goes_to_one_chat(world: World) -> None:
    bob, msg_id, peers = await original(world, 2)
    bob.core.layer_state.setdefault("forwarding", {}).setdefault("received", {})[msg_id] = 4
    with pytest.raises(ForwardLimitExceeded) as limited:
        await forward(bob, msg_id, ["p0", "p1"])
    assert limited.value.forward_count == 5 and limited.value.limit == 1
    with pytest.raises(ForwardRefused) as refused:
        await forward(bob, msg_id, ["p0", "p1"], check_limits=False)
    assert refused.value.target == "p1" and "R6-forward-limit" in refused.value.error.message
    [copy] = await received(peers[0])
    assert forward_count(peers[0], copy.msg_id) == 5


class ClearOnly:
    """A dishonest sender: a forward count in the clear envelope but not in the payload."""

    name = "tamper"

    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        message.extensions["forward_count"] = 2


async def test_a_count_that_does_not_match_the_payload_is_hidden(world: World) -> None:
    alice = await world.user("alice")
    bob = await world.user("bob")
    alice.core.send_layers = [ClearOnly(), *alice.core.send_layers]
    await alice.send_text("bob", "not really forwarded")
    outcomes = await bob.sync()
    assert [type(o) for o in outcomes] == [Rejected]
    assert isinstance(outcomes[0], Rejected) and outcomes[0].reason == forwarding.NOT_VERIFIED


async def test_unknown_message_and_attachments_are_refused(world: World, tmp_path: Path) -> None:
    alice = await world.user("alice")
    await world.user("bob")
    with pytest.raises(forwarding.ForwardError):
        await forward(alice, "no-such-id", ["bob"])
    photo = tmp_path / "p.txt"
    photo.write_bytes(b"file")
    await alice.send_text("bob", "with a file", [photo])
    with pytest.raises(forwarding.ForwardError):
        await forward(alice, alice.core.history[-1]["msg_id"], ["bob"])


def test_cli_forward(server: EmbeddedServer, tmp_path: Path) -> None:
    homes = tmp_path / "homes"

    async def setup() -> str:
        world = World(server, homes)
        try:
            _bob, msg_id, _ = await original(world, 6)
            return msg_id
        finally:
            await world.close()

    msg_id = asyncio.run(setup())
    env = {"FULCRUM_PASSPHRASE": PASS}
    base = ["--home", str(homes / "bob"), "--server", server.url]
    ok = CliRunner().invoke(app, ["forward", *base, "--", msg_id, "p0", "p1"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "forwarded to p0" in ok.output and "forward count 1, 2 chats" in ok.output
    many = [f"p{i}" for i in range(6)]
    refused = CliRunner().invoke(app, ["forward", *base, "--", msg_id, *many], env=env)
    assert refused.exit_code == 1 and "at most 5 chats" in refused.output


async def test_sync_output_marks_forwarded_messages(world: World) -> None:
    from fulcrum.client.sdk import outcome_json

    bob, msg_id, peers = await original(world, 1)
    await forward(bob, msg_id, ["p0"])
    rows = [outcome_json(peers[0], o) for o in await peers[0].sync()]
    assert [(r["text"], r["forwarded"]) for r in rows] == [("meet at the station", 1)]
