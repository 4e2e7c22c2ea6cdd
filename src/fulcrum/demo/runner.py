"""The demo: a small world of users on an embedded server, run step by step.

Each step is an async function taking the ``DemoWorld``; later features add their own steps to
``STEPS`` (franking reports, escrow, warrants, minor protection, media matching, evaluation).
A step records what it showed with ``world.check(...)``; a failed check fails the demo.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from fulcrum.client.core import ReceivedMessage
from fulcrum.client.sdk import FulcrumClient, SyncOutcome
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.server.escrow import DEFAULT_POLICY

DEMO_PASSPHRASE = "demo passphrase (not for real use)"  # noqa: S105 - a demo, documented


class DemoFailed(Exception):
    """A demo check did not hold."""


@dataclass
class Check:
    step: str
    what: str
    ok: bool


@dataclass
class DemoWorld:
    out: Path
    server: EmbeddedServer
    clients: dict[str, FulcrumClient] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)
    step: str = ""

    def check(self, what: str, ok: bool) -> None:
        self.checks.append(Check(self.step, what, ok))
        if not ok:
            raise DemoFailed(f"{self.step}: {what}")

    async def user(
        self, name: str, *, birth_year: int = 1990, country: str | None = "GB"
    ) -> FulcrumClient:
        client = await FulcrumClient.register(
            self.out / "homes" / name,
            self.server.url,
            name,
            DEMO_PASSPHRASE,
            birth_year=birth_year,
            country=country,
            log2_n=12,
        )
        self.clients[name] = client
        return client

    async def received(self, name: str) -> list[ReceivedMessage]:
        return [o for o in await self.clients[name].sync() if isinstance(o, ReceivedMessage)]

    async def sync(self, name: str) -> list[SyncOutcome]:
        return await self.clients[name].sync()


Step = Callable[[DemoWorld], Awaitable[None]]


def demo_image(seed: int, size: int = 256) -> bytes:
    """A benign generated picture (PNG bytes)."""
    img = Image.new("RGB", (size, size), (30 + seed * 40 % 200, 120, 200 - seed * 30 % 150))
    draw = ImageDraw.Draw(img)
    for i in range(8):
        x0 = (seed * 37 + i * 29) % (size - 40)
        y0 = (seed * 53 + i * 41) % (size - 40)
        draw.ellipse((x0, y0, x0 + 40, y0 + 40), fill=((i * 60) % 256, (seed * 90) % 256, 90))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


async def step_direct_messages(world: DemoWorld) -> None:
    alice = await world.user("alice")
    bob = await world.user("bob")
    await world.user("carol")
    bob_laptop = await bob.link_device(
        world.out / "homes" / "bob-laptop", DEMO_PASSPHRASE, log2_n=12
    )
    world.clients["bob-laptop"] = bob_laptop
    await alice.send_text("bob", "Hi Bob, lunch on Friday?")
    phone = await world.received("bob")
    laptop = await world.received("bob-laptop")
    world.check(
        "bob's phone and laptop both decrypt alice's message",
        [m.text for m in phone] == ["Hi Bob, lunch on Friday?"]
        and [m.text for m in laptop] == ["Hi Bob, lunch on Friday?"],
    )
    await bob.send_text("alice", "Friday works. 12:30?")
    replies = await world.received("alice")
    world.check("alice reads bob's reply", [m.text for m in replies] == ["Friday works. 12:30?"])
    laptop_copy = await world.received("bob-laptop")
    world.check(
        "bob's laptop sees what his phone sent",
        [m.text for m in laptop_copy] == ["Friday works. 12:30?"],
    )


async def step_offline_and_attachment(world: DemoWorld) -> None:
    alice = world.clients["alice"]
    picture = demo_image(1)
    path = world.out / "holiday.png"
    path.write_bytes(picture)
    await alice.send_text("carol", "Carol, here is the photo from the trip", [path])
    await alice.send_text("carol", "(sent while you were offline)")
    got = await world.received("carol")
    world.check(
        "carol, offline when they were sent, gets both messages in order",
        [m.text for m in got]
        == ["Carol, here is the photo from the trip", "(sent while you were offline)"],
    )
    world.check(
        "the attachment decrypts to the exact bytes sent",
        bool(got) and got[0].attachments[0][1] == picture,
    )
    world.facts["attachment_bytes"] = len(picture)


async def step_group(world: DemoWorld) -> None:
    alice = world.clients["alice"]
    info = await alice.create_group("book-club", ["bob", "carol"])
    await alice.send_group("book-club", "Welcome to the book club! First pick: Middlemarch")
    bob_msgs = await world.received("bob")
    carol_msgs = await world.received("carol")
    world.check(
        "every member decrypts the group message",
        [m.text for m in bob_msgs]
        == [m.text for m in carol_msgs]
        == ["Welcome to the book club! First pick: Middlemarch"],
    )
    await alice.change_members("book-club", remove=["carol"])
    await alice.send_group("book-club", "Carol has left; next meeting Tuesday")
    carol_after = await world.received("carol")
    bob_after = await world.received("bob")
    world.check(
        "bob reads the message sent after carol left",
        [m.text for m in bob_after] == ["Carol has left; next meeting Tuesday"],
    )
    world.check("carol, removed, receives nothing readable", carol_after == [])
    world.facts["group_epoch_after_removal"] = info.membership_epoch + 1


STEPS: list[tuple[str, Step]] = [
    ("1:1 messages across devices", step_direct_messages),
    ("offline delivery and attachments", step_offline_and_attachment),
    ("groups and membership changes", step_group),
]


async def run_demo(
    out: Path | None = None, steps: list[tuple[str, Step]] | None = None
) -> DemoWorld:
    out = out or Path(tempfile.mkdtemp(prefix="fulcrum-demo-"))
    out.mkdir(parents=True, exist_ok=True)
    server = EmbeddedServer(
        Path(tempfile.mkdtemp(prefix="fulcrum-demo-server-")),
        roles=("relay", "log", "review", "custodian", "access"),
        escrow_policy=DEFAULT_POLICY,  # in-process trustees, n=5, t=3
    ).start()
    world = DemoWorld(out=out, server=server)
    try:
        for title, step in steps or STEPS:
            world.step = title
            await step(world)
    finally:
        for client in world.clients.values():
            await client.close()
        server.stop()
        summary = {
            "checks": [c.__dict__ for c in world.checks],
            "facts": world.facts,
            "passed": all(c.ok for c in world.checks),
        }
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return world


from fulcrum.demo.steps_safety import step_minor_protection  # noqa: E402

STEPS.append(("minor protection", step_minor_protection))

from fulcrum.demo.steps_matching import step_private_matching  # noqa: E402

STEPS.append(("private matching of known images", step_private_matching))

from fulcrum.demo.steps_franking import step_franking_report  # noqa: E402

STEPS.append(("verifiable abuse reports", step_franking_report))

from fulcrum.demo.steps_escrow import step_escrow  # noqa: E402

STEPS.insert(3, ("escrow fields, trustees and the log", step_escrow))  # after the messaging steps

from fulcrum.demo.steps_warrant import step_warrant  # noqa: E402

STEPS.insert(4, ("a warrant, trustees and an evidence bundle", step_warrant))  # after escrow

from fulcrum.demo.steps_simulation import step_simulation  # noqa: E402

STEPS.append(("safety evaluation (small simulation)", step_simulation))
