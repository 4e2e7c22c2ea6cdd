"""Minor protection through the real relay: refusals, notices, discovery, groups (forwarding:
``test_forwarding.py``)."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select
from tests.integration.client.conftest import World

from fulcrum.client import contacts
from fulcrum.client.core import ReceivedMessage
from fulcrum.client.sdk import FulcrumClient, SafetyNotice
from fulcrum.client.transport import ApiError
from fulcrum.demo.embedded import EmbeddedServer
from fulcrum.server.state import RelayState
from fulcrum.store.models import Account, Base
from fulcrum.store.safety import SafetyDecision, SqlSafetyStore

pytestmark = pytest.mark.integration

YEAR = datetime.datetime.now(tz=datetime.UTC).year
MINOR = YEAR - 14
ADULT = 1980


def state(server: EmbeddedServer) -> RelayState:
    st = server.app.state.fulcrum
    assert isinstance(st, RelayState)
    return st


def decisions(server: EmbeddedServer, subject: str) -> list[SafetyDecision]:
    with state(server).db.read() as session:
        return SqlSafetyStore(session).decisions_about(subject)


def age_account(server: EmbeddedServer, name: str, days: int) -> None:
    """Backdate an account's creation (the new-account criteria would otherwise apply)."""
    with state(server).db.write() as session:
        row = session.get(Account, name)
        assert row is not None
        row.created_at -= days * 86_400_000


async def texts(client: FulcrumClient) -> list[str]:
    return [o.text for o in await client.sync() if isinstance(o, ReceivedMessage)]


async def connect(minor: FulcrumClient, adult: FulcrumClient) -> None:
    """The minor asks, the adult accepts (adults cannot ask minors)."""
    await contacts.request_contact(minor, adult.core.account)
    await contacts.accept_contact(adult, minor.core.account)


async def test_unconnected_adult_is_refused_with_explanation(
    world: World, server: EmbeddedServer
) -> None:
    kid = await world.user("kid", birth_year=MINOR)
    stranger = await world.user("stranger", birth_year=ADULT)
    with pytest.raises(ApiError) as err:
        await stranger.send_text("kid", "hello there")
    assert err.value.status == 403 and err.value.code == "safety_refused"
    assert "R1-no-first-contact" in err.value.message and "kid" in err.value.message
    assert await texts(kid) == []  # nothing was delivered
    recorded = decisions(server, "stranger")
    assert [d.rule_id for d in recorded] == ["R1-no-first-contact"]
    assert recorded[0].action == "refuse" and "not a connection" in recorded[0].explanation
    with pytest.raises(ApiError) as req:
        await contacts.request_contact(stranger, "kid")
    assert req.value.status == 403 and "R1-no-first-contact" in req.value.message
    assert (await contacts.contacts(kid)).contacts == []  # the refused request changed nothing


async def test_connected_adult_and_minor_talk(world: World, server: EmbeddedServer) -> None:
    kid = await world.user("kid", birth_year=MINOR)
    coach = await world.user("coach", birth_year=ADULT)
    await connect(kid, coach)
    listed = (await contacts.contacts(kid)).contacts
    assert [(c.account, c.status, c.direction) for c in listed] == [
        ("coach", "accepted", "outgoing")
    ]
    await coach.send_text("kid", "training moved to 5pm")
    assert await texts(kid) == ["training moved to 5pm"]
    assert decisions(server, "coach") == []  # a legitimate tie is not flagged


async def test_fanout_adult_flagged_hidden_and_minor_notified(
    world: World, server: EmbeddedServer
) -> None:
    friend = await world.user("friend", birth_year=MINOR)
    groomer = await world.user("groomer", birth_year=ADULT)
    age_account(server, "groomer", 60)  # an old account: only the fan-out criterion applies
    await connect(friend, groomer)
    assert "groomer" in await contacts.search(friend, "groo")
    minors = [await world.user(f"m{i}", birth_year=MINOR) for i in range(5)]
    assert "groomer" in await contacts.search(minors[0], "groo")
    for i in range(4):  # below the threshold: refused, not flagged
        with pytest.raises(ApiError):
            await groomer.send_text(f"m{i}", "hi")
    assert not [d for d in decisions(server, "groomer") if d.action == "restrict"]
    with pytest.raises(ApiError):
        await groomer.send_text("m4", "hi")  # the 5th unconnected minor in 24 h
    restricted = [d for d in decisions(server, "groomer") if d.action == "restrict"]
    assert [d.rule_id for d in restricted] == ["R3b-fanout"]
    assert restricted[0].evidence and restricted[0].thresholds
    notices = [o for o in await friend.sync() if isinstance(o, SafetyNotice)]
    assert [n.notice for n in notices] == ["suspicious_adult"]
    assert "groomer" not in await contacts.search(minors[0], "groo")  # hidden from minors
    with pytest.raises(ApiError) as err:  # and blocked from new contact with minors
        await contacts.request_contact(await world.user("m9", birth_year=MINOR), "groomer")
    assert "R3-blocked-from-minors" in err.value.message
    stats = await contacts.safety_stats(friend)
    assert stats.counts["R3b-fanout"]["restrict"] == 1
    assert stats.counts["R1-no-first-contact"]["refuse"] == 5


async def test_search_hides_minors_from_strangers(world: World) -> None:
    kid = await world.user("kidsearch", birth_year=MINOR)
    adult = await world.user("kidsearchdad", birth_year=ADULT)
    other = await world.user("otheradult", birth_year=ADULT)
    assert await contacts.search(other, "kidsearch") == ["kidsearchdad"]
    await connect(kid, adult)
    assert await contacts.search(adult, "kidsearch") == ["kidsearch", "kidsearchdad"]
    assert await contacts.search(other, "kidsearch") == ["kidsearchdad"]


async def test_group_add_rule(world: World) -> None:
    kid = await world.user("kid", birth_year=MINOR)
    coach = await world.user("coach", birth_year=ADULT)
    stranger = await world.user("stranger", birth_year=ADULT)
    with pytest.raises(ApiError) as err:
        await stranger.create_group("team", ["kid"])
    assert err.value.status == 403 and "R5-group-add" in err.value.message
    with pytest.raises(ApiError) as gone:
        await stranger.transport.group("team")
    assert gone.value.status == 404  # the refused creation changed nothing
    await connect(kid, coach)
    info = await coach.create_group("team", ["kid"])
    assert info.members == ["coach", "kid"]
    await stranger.create_group("adults", [])
    with pytest.raises(ApiError) as add:
        await stranger.change_members("adults", add=["kid"])
    assert "R5-group-add" in add.value.message


async def test_minor_to_minor_request_message(world: World) -> None:
    a = await world.user("mina", birth_year=MINOR)
    b = await world.user("minb", birth_year=MINOR)
    with pytest.raises(ApiError):
        await a.send_text("minb", "hi before asking")
    await contacts.request_contact(a, "minb")
    await a.send_text("minb", "hi, it's mina from school")
    with pytest.raises(ApiError) as err:
        await a.send_text("minb", "second message")
    assert "R1-minor-request-message" in err.value.message
    assert await texts(b) == ["hi, it's mina from school"]


async def test_block_stops_messages(world: World) -> None:
    a = await world.user("adulta", birth_year=ADULT)
    b = await world.user("adultb", birth_year=ADULT)
    await a.send_text("adultb", "hello")
    await contacts.block(b, "adulta")
    with pytest.raises(ApiError) as err:
        await a.send_text("adultb", "hello again")
    assert "R0-blocked" in err.value.message
    assert await texts(b) == ["hello"]


async def test_no_safety_table_holds_message_content(world: World, server: EmbeddedServer) -> None:
    marker = "PLAINTEXT-MARKER-7f3a"
    kid = await world.user("kid", birth_year=MINOR)
    coach = await world.user("coach", birth_year=ADULT)
    stranger = await world.user("stranger", birth_year=ADULT)
    await connect(kid, coach)
    await coach.send_text("kid", f"{marker} practice")
    with pytest.raises(ApiError):
        await stranger.send_text("kid", f"{marker} hi")
    assert await texts(kid) == [f"{marker} practice"]
    tables = [t for t in Base.metadata.sorted_tables if t.name.startswith("safety_")]
    assert len(tables) >= 10
    dump = []
    with state(server).db.read() as session:
        for table in tables:
            dump.extend(repr(tuple(row)) for row in session.execute(select(table)))
    assert dump and marker not in "".join(dump)
