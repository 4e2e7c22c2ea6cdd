"""Plain values the repositories hand out (no ORM objects leave the store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DeviceRecord:
    id: str
    account: str
    identity_key: str
    signing_key: str
    suspended: bool = False


@dataclass(frozen=True)
class ClaimedKeyRecord:
    device: DeviceRecord
    key_id: str
    key: str
    fallback: bool


@dataclass(frozen=True)
class Delivery:
    """One queue row to insert: which device gets the message, with its own Olm ciphertext."""

    device_id: str
    ratchet_type: int | None = None
    ratchet_body: bytes | None = None


@dataclass(frozen=True)
class NewMessage:
    msg_id: str
    sender_account: str
    sender_device: str
    conv: str
    kind: str
    content_type: str
    body: bytes
    commitment: bytes | None
    escrow: bytes | None
    group_id: str | None
    membership_epoch: int | None
    group_ratchet: bytes | None
    extensions: dict[str, Any]
    server_ts: int
    content_hash: str
    env: dict[str, Any]
    attachments: tuple[str, ...] = ()
    franking_kid: str | None = None
    franking_tag: bytes | None = None


@dataclass(frozen=True)
class AcceptedMessage:
    """What an earlier accept stored, enough to repeat its receipt."""

    msg_id: str
    server_ts: int
    content_hash: str
    franking_kid: str | None
    franking_tag: bytes | None


@dataclass(frozen=True)
class QueuedMessage:
    """A queue row joined with its message, for the owning device."""

    seq: int
    kind: str
    msg_id: str
    conv: str
    sender: str
    sender_device: str
    server_ts: int
    content_type: str
    body: bytes
    ratchet_type: int | None
    ratchet_body: bytes | None
    group_id: str | None
    membership_epoch: int | None
    group_ratchet: bytes | None
    commitment: bytes | None
    escrow: bytes | None
    franking_kid: str | None
    franking_tag: bytes | None
    env: dict[str, Any]
    extensions: dict[str, Any]
    attachments: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class GroupRecord:
    id: str
    membership_epoch: int
    members: tuple[str, ...]  # sorted
    admins: tuple[str, ...]  # sorted


@dataclass(frozen=True)
class AttachmentRecord:
    id: str
    uploader_account: str
    size: int
    sha256: str
