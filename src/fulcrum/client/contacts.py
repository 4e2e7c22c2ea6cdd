"""Contacts, directory and group invite links on top of a ``FulcrumClient``: requests, accept,
decline, block, search, invite, join.

Refusals by the minor-protection rules arrive as ``ApiError`` with code ``safety_refused`` and the
rule's explanation as the message.
"""

from __future__ import annotations

from fulcrum.client.core import ClientError
from fulcrum.client.sdk import FulcrumClient
from fulcrum.wire.api import GroupInfo
from fulcrum.wire.safety import (
    ContactBlock,
    ContactList,
    ContactRequestCreate,
    ContactRequestInfo,
    DirectoryResults,
    InviteCreate,
    InviteInfo,
    RuleStatsOut,
)


async def request_contact(client: FulcrumClient, name: str) -> ContactRequestInfo:
    return await client.transport.call(
        "POST", "/contacts/requests", ContactRequestInfo, body=ContactRequestCreate(to=name)
    )


async def contacts(client: FulcrumClient) -> ContactList:
    return await client.transport.call("GET", "/contacts", ContactList)


async def _decide(client: FulcrumClient, name: str, verb: str) -> ContactRequestInfo:
    listed = await contacts(client)
    for entry in listed.contacts:
        if entry.account == name and entry.direction == "incoming" and entry.status == "pending":
            if entry.request_id is None:
                break
            return await client.transport.call(
                "POST", f"/contacts/requests/{entry.request_id}/{verb}", ContactRequestInfo
            )
    raise ClientError(f"no pending contact request from {name}")


async def accept_contact(client: FulcrumClient, name: str) -> ContactRequestInfo:
    return await _decide(client, name, "accept")


async def decline_contact(client: FulcrumClient, name: str) -> ContactRequestInfo:
    return await _decide(client, name, "decline")


async def block(client: FulcrumClient, name: str) -> None:
    await client.transport.request(
        "POST", "/v1/contacts/block", json=ContactBlock(account=name).model_dump()
    )


async def search(client: FulcrumClient, query: str) -> list[str]:
    found = await client.transport.call(
        "GET", "/directory/search", DirectoryResults, params={"q": query}
    )
    return found.accounts


async def safety_stats(
    client: FulcrumClient, days: int = 30, *, day: int | None = None
) -> RuleStatsOut:
    """Public per-rule counts for the last ``days`` UTC days, or for the one UTC ``day``."""
    params: dict[str, int] = {"days": days} if day is None else {"day": day}
    return await client.transport.call("GET", "/safety/stats", RuleStatsOut, params=params)


async def create_invite(
    client: FulcrumClient, group_id: str, ttl_seconds: int = 86_400
) -> InviteInfo:
    """A single-use invite link to ``group_id`` (admins only); share ``token`` out of band."""
    return await client.transport.call(
        "POST",
        f"/groups/{group_id}/invites",
        InviteInfo,
        body=InviteCreate(ttl_seconds=ttl_seconds),
    )


async def accept_invite(client: FulcrumClient, token: str) -> GroupInfo:
    """Join a group with an invite link (a minor may join this way without a connection)."""
    return await client.transport.call("POST", f"/invites/{token}/accept", GroupInfo)
