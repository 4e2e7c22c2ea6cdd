"""Request and response bodies of the minor-protection endpoints (contacts, directory, stats)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fulcrum.wire.api import AccountName, WireModel


class ContactRequestCreate(WireModel):
    to: AccountName


class ContactRequestInfo(WireModel):
    request_id: str
    requester: str
    recipient: str
    status: Literal["pending", "accepted", "declined"]


class ContactBlock(WireModel):
    account: AccountName


class ContactEntry(WireModel):
    account: str
    status: Literal["pending", "accepted", "declined"]
    direction: Literal["outgoing", "incoming"]
    request_id: str | None = None


class ContactList(WireModel):
    contacts: list[ContactEntry]


class DirectoryResults(WireModel):
    accounts: list[str]


class RuleStatsOut(WireModel):
    """Aggregate decision counts per rule and action over whole UTC days (no account data)."""

    first_day: int
    last_day: int
    counts: dict[str, dict[str, int]]


class InviteCreate(WireModel):
    """Create a single-use invite link to a group (admins only)."""

    ttl_seconds: int = Field(default=86_400, ge=60, le=7 * 86_400)


class InviteInfo(WireModel):
    token: str  # shown once: the server keeps only its SHA-256
    group_id: str
    expires_at: int  # server time, ms
