"""Demo steps for minor protection (design note 07): refusals, a flagged fan-out adult, a safety
notice, and legitimate adults (a parent, a coach) who are not flagged."""

from __future__ import annotations

import contextlib
import datetime
from typing import TYPE_CHECKING

from fulcrum.client import contacts
from fulcrum.client.sdk import SafetyNotice
from fulcrum.client.transport import ApiError

if TYPE_CHECKING:
    from fulcrum.demo.runner import DemoWorld

YEAR = datetime.datetime.now(tz=datetime.UTC).year


async def _connect(world: DemoWorld, minor: str, adult: str) -> None:
    await contacts.request_contact(world.clients[minor], adult)
    await contacts.accept_contact(world.clients[adult], minor)


async def step_minor_protection(world: DemoWorld) -> None:
    await world.user("maya", birth_year=YEAR - 14)  # a 14-year-old
    for name in ("leo", "zoe", "sam", "ada", "kim"):
        await world.user(name, birth_year=YEAR - 13)
    await world.user("maya-mum", birth_year=1982)
    await world.user("coach-lee", birth_year=1979)
    await world.user("unknown-adult", birth_year=1975)
    await _connect(world, "maya", "maya-mum")
    for kid in ("maya", "leo", "zoe", "sam"):
        await _connect(world, kid, "coach-lee")
    await world.clients["coach-lee"].send_text("maya", "Training is at 5pm on Thursday")
    await world.clients["maya-mum"].send_text("maya", "Dinner at 7")
    got = [o for o in await world.sync("maya") if not isinstance(o, SafetyNotice)]
    world.check("maya's mum and coach reach her", len(got) == 2)

    stranger = world.clients["unknown-adult"]
    try:
        await stranger.send_text("maya", "hi, want to chat?")
        refused = ""
    except ApiError as exc:
        refused = exc.message
    print(f"  unknown-adult -> maya refused: {refused}")
    world.check("an unconnected adult is refused with the rule's explanation", "R1" in refused)
    world.facts["first_contact_refusal"] = refused

    await _connect(world, "kim", "unknown-adult")  # kim knows them; a chat exists
    for kid in ("leo", "zoe", "sam", "ada", "maya"):
        with contextlib.suppress(ApiError):
            await stranger.send_text(kid, "hey")
    hidden = "unknown-adult" not in await contacts.search(world.clients["ada"], "unknown")
    world.check("the adult fanning out to many minors is hidden from minors", hidden)
    notices = [o for o in await world.sync("kim") if isinstance(o, SafetyNotice)]
    for n in notices:
        print(f"  notice to kim: {n.text}")
    world.check("a minor chatting with the flagged adult gets a safety notice", bool(notices))
    stats = await contacts.safety_stats(world.clients["maya"])
    flagged = {rule for rule, by in stats.counts.items() if "restrict" in by}
    world.facts["flagged_rules"] = sorted(flagged)
    coach_ok = "coach-lee" in await contacts.search(world.clients["maya"], "coach")
    parent_ok = "maya-mum" in await contacts.search(world.clients["maya"], "maya")
    world.check("the coach and the parent with real ties are not flagged", coach_ok and parent_ok)
