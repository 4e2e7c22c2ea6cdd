"""Metadata events the server reports to the engine. None of them carries message content.

Times are POSIX seconds (UTC) as floats; account, conversation and batch ids are opaque strings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class LinkKind(enum.StrEnum):
    SAME_DEVICE = "same_device"  # accounts seen on the same device
    RECREATED = "recreated"  # a new account judged to be a re-creation of an old one
    SAME_PAYMENT = "same_payment"
    FAMILY = "family"  # a guardian-confirmed family tie: counts as a connection, exempts notices


class BanReason(enum.StrEnum):
    CHILD_SAFETY = "child_safety"
    SPAM = "spam"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class AccountCreated:
    account: str
    at: float
    birth_year: int | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    utc_offset_minutes: int | None = None  # the client's offset; else the country's default


@dataclass(frozen=True, slots=True)
class ContactRequested:
    sender: str
    recipient: str
    at: float


@dataclass(frozen=True, slots=True)
class ContactAccepted:
    accepter: str  # the account that received the request
    requester: str
    at: float


@dataclass(frozen=True, slots=True)
class ContactDeclined:
    decliner: str
    requester: str
    at: float


@dataclass(frozen=True, slots=True)
class Blocked:
    blocker: str
    blocked: str
    at: float


@dataclass(frozen=True, slots=True)
class Reported:
    reporter: str
    reported: str
    at: float
    involves_child: bool = False
    report_id: str | None = None
    conversation: str | None = None


@dataclass(frozen=True, slots=True)
class MessageSent:
    """One send to one conversation. ``forward_count``: times the message had been forwarded before
    this send (from its franked metadata; 0 = not a forward). ``forward_batch``: an opaque id shared
    by the sends of one forward action, so the chats per forward can be counted."""

    sender: str
    recipients: tuple[str, ...]
    conversation: str
    at: float
    has_media: bool = False
    forward_count: int = 0
    is_group: bool = False
    forward_batch: str | None = None


@dataclass(frozen=True, slots=True)
class GroupMemberAdded:
    conversation: str
    adder: str
    added: str
    at: float
    via_invite_accepted: bool = False  # the added account itself accepted an invite link


@dataclass(frozen=True, slots=True)
class AccountBanned:
    account: str
    at: float
    reason: BanReason


@dataclass(frozen=True, slots=True)
class AccountLinked:
    account: str
    other: str
    at: float
    kind: LinkKind


SafetyEvent = (
    AccountCreated
    | ContactRequested
    | ContactAccepted
    | ContactDeclined
    | Blocked
    | Reported
    | MessageSent
    | GroupMemberAdded
    | AccountBanned
    | AccountLinked
)

EVENT_TYPES: tuple[type, ...] = (
    AccountCreated,
    ContactRequested,
    ContactAccepted,
    ContactDeclined,
    Blocked,
    Reported,
    MessageSent,
    GroupMemberAdded,
    AccountBanned,
    AccountLinked,
)
