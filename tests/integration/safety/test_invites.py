"""Group invite links (rule 5): a minor joins a group through a link they accept; single use,
expiry, typed errors, rules that still apply, and the CLI."""

from __future__ import annotations

import asyncio
import datetime
import re
from pathlib import Path

import pytest
from sqlalchemy import update
from tests.integration.client.conftest import PASS, World
from typer.testing import CliRunner

from fulcrum.cli.main import app
from fulcrum.client import contacts
from fulcrum.client.core import ReceivedMessage
from fulcrum.client.transport import ApiError
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.server.state import relay_state
from fulcrum.store.safety_tables import SafetyInvite

pytestmark = pytest.mark.integration

MINOR = datetime.datetime.now(tz=datetime.UTC).year - 14


async def test_a_minor_joins_through_an_invite_they_accept(world: World) -> None:
    kid = await world.user("kid", birth_year=MINOR)
    coach = await world.user("coach")
    other = await world.user("other")
    await coach.create_group("club", [])
    with pytest.raises(ApiError) as refused:
        await coach.change_members("club", add=["kid"])
    assert "R5-group-add" in refused.value.message  # not a connection: cannot add the minor
    invite = await contacts.create_invite(coach, "club")
    info = await contacts.accept_invite(kid, invite.token)
    assert info.members == ["coach", "kid"]
    await coach.send_group("club", "welcome to the club")
    got = [o.text for o in await kid.sync() if isinstance(o, ReceivedMessage)]
    assert got == ["welcome to the club"]
    with pytest.raises(ApiError) as used:
        await contacts.accept_invite(other, invite.token)
    assert used.value.status == 409 and used.value.code == "invite_used"
    with pytest.raises(ApiError) as again:
        await contacts.accept_invite(kid, (await contacts.create_invite(coach, "club")).token)
    assert again.value.code == "already_member"


async def test_typed_errors(world: World, server: EmbeddedServer) -> None:
    admin = await world.user("admin")
    member = await world.user("member")
    outsider = await world.user("outsider")
    await admin.create_group("team", ["member"])
    with pytest.raises(ApiError) as not_admin:
        await contacts.create_invite(member, "team")
    assert not_admin.value.status == 403
    with pytest.raises(ApiError) as not_member:
        await contacts.create_invite(outsider, "team")
    assert not_member.value.status == 404
    with pytest.raises(ApiError) as unknown:
        await contacts.accept_invite(outsider, "x" * 32)
    assert unknown.value.status == 404
    invite = await contacts.create_invite(admin, "team", ttl_seconds=60)
    with relay_state(server.app).db.write() as session:
        session.execute(update(SafetyInvite).values(expires_at=0))
    with pytest.raises(ApiError) as expired:
        await contacts.accept_invite(outsider, invite.token)
    assert expired.value.status == 409 and expired.value.code == "invite_expired"
    fresh = await contacts.create_invite(admin, "team")
    await admin.change_members("team", remove=["admin"])  # the inviting admin left
    with pytest.raises(ApiError) as revoked:
        await contacts.accept_invite(outsider, fresh.token)
    assert revoked.value.code == "invite_revoked"


async def test_rules_still_refuse_and_the_link_stays_unused(world: World) -> None:
    kid = await world.user("kid", birth_year=MINOR)
    coach = await world.user("coach")
    friend = await world.user("friend", birth_year=MINOR)
    mate = await world.user("mate")
    await coach.create_group("club", [])
    await contacts.block(kid, "coach")
    invite = await contacts.create_invite(coach, "club")
    with pytest.raises(ApiError) as refused:
        await contacts.accept_invite(kid, invite.token)
    assert refused.value.code == "safety_refused" and "R0-blocked" in refused.value.message
    with pytest.raises(ApiError) as flagged:  # a minor's block makes coach a suspicious adult
        await contacts.accept_invite(friend, invite.token)
    assert "R3-blocked-from-minors" in flagged.value.message
    info = await contacts.accept_invite(mate, invite.token)  # the refusals did not use it up
    assert info.members == ["coach", "mate"]


def test_cli_group_invite_and_join(server: EmbeddedServer, tmp_path: Path) -> None:
    homes = tmp_path / "homes"

    async def setup() -> None:
        world = World(server, homes)
        try:
            coach = await world.user("coach")
            await world.user("kid", birth_year=MINOR)
            await coach.create_group("club", [])
        finally:
            await world.close()

    asyncio.run(setup())
    env = {"FULCRUM_PASSPHRASE": PASS}

    def cli(home: str, *args: str) -> tuple[int, str]:
        opts = ["--home", str(homes / home), "--server", server.url]
        result = CliRunner().invoke(app, [*args, *opts], env=env)
        return result.exit_code, result.output

    code, out = cli("coach", "group", "invite", "club", "--hours", "2")
    assert code == 0, out
    found = re.search(r"\(single use, 2 h\): (\S+)", out)
    assert found is not None
    code, out = cli("kid", "group", "join", found.group(1))
    assert code == 0 and "joined club: coach, kid" in out, out
    code, out = cli("kid", "group", "join", found.group(1))
    assert code == 2 and "already" in out
