"""Request and response bodies of the Fulcrum HTTP API (v1).

Both the server and the client SDK import these models, so the contract lives in one place.
Binary values travel as base64url without padding (``B64``); vodozemac keys travel in
vodozemac's own unpadded standard base64 (``KeyText``). Every model forbids unknown fields, so
malformed requests get a typed 422 ``invalid_request`` error and change nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

API_PREFIX = "/v1"

B64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]*$", max_length=48_000_000)]
KeyText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{20,100}$")]
AccountName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,31}$")]
DeviceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{4,64}$")]
ConversationId = Annotated[str, StringConstraints(pattern=r"^(dm|group):[a-z0-9_.:-]{1,80}$")]
GroupId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,47}$")]
MessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{22}$")]  # 16 bytes, b64url
ContentType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9./+-]{1,64}$")]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- errors -------------------------------------------------------------------------------------


class ErrorDetail(WireModel):
    code: str  # stable, machine-readable: invalid_request, unauthorized, forbidden, not_found, ...
    message: str


class ErrorBody(WireModel):
    error: ErrorDetail


# --- accounts, devices, keys -------------------------------------------------------------------


class DeviceKeys(WireModel):
    """A device's public keys, uploaded at registration.

    ``signature`` is the device's Ed25519 signature (vodozemac ``Account.sign``) over
    ``fulcrum.client.keys.device_key_statement(account, identity_key, signing_key)`` and proves
    possession of the signing key.
    """

    identity_key: KeyText  # Curve25519
    signing_key: KeyText  # Ed25519
    one_time_keys: dict[str, KeyText] = Field(default_factory=dict, max_length=200)
    fallback_key: dict[str, KeyText] | None = None
    signature: str = Field(pattern=r"^[A-Za-z0-9+/]{80,90}$")


class AccountCreate(WireModel):
    name: AccountName
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    device: DeviceKeys


class DeviceAdd(WireModel):
    """Add a device to the caller's account (authenticated as an existing device of it)."""

    device: DeviceKeys


class DeviceRegistered(WireModel):
    account: AccountName
    device_id: DeviceId
    token: str  # bearer token; the server stores only its SHA-256


class DeviceInfo(WireModel):
    device_id: DeviceId
    identity_key: KeyText
    signing_key: KeyText


class AccountDevices(WireModel):
    account: AccountName
    devices: list[DeviceInfo]


class DeviceRef(WireModel):
    account: AccountName
    device_id: DeviceId


class KeyClaimRequest(WireModel):
    devices: list[DeviceRef] = Field(min_length=1, max_length=100)


class ClaimedKey(WireModel):
    account: AccountName
    device_id: DeviceId
    identity_key: KeyText
    signing_key: KeyText
    key_id: str
    one_time_key: KeyText
    fallback: bool  # True when no one-time key was left and the fallback key was handed out


class KeyClaimResponse(WireModel):
    keys: list[ClaimedKey]


class OneTimeKeysUpload(WireModel):
    one_time_keys: dict[str, KeyText] = Field(default_factory=dict, max_length=200)
    fallback_key: dict[str, KeyText] | None = None


class KeyCount(WireModel):
    one_time_keys: int


# --- messages ----------------------------------------------------------------------------------


class RatchetCiphertext(WireModel):
    """An Olm ciphertext for one recipient device (type 0 = pre-key message, 1 = normal)."""

    account: AccountName
    device_id: DeviceId
    type: Literal[0, 1]
    body: B64


class GroupRef(WireModel):
    group_id: GroupId
    membership_epoch: int = Field(ge=0)


class EnvelopeIn(WireModel):
    """What a client sends. The server never sees plaintext or content keys.

    * ``kind="message"``: a user message. 1:1: ``conv`` is ``dm:<a>:<b>`` (names sorted) and
      ``recipients`` holds one Olm ciphertext per device of both accounts except the sending
      device. Group: ``conv`` is ``group:<group_id>``, ``group`` names the membership epoch the
      sender encrypted for, and ``group_ratchet`` holds the Megolm ciphertext every other member
      device gets.
    * ``kind="control"``: device-to-device key sharing (Megolm session keys) over Olm, no body.
    * ``commitment`` / ``escrow`` / ``extensions`` are the slots the safety layers fill (franking
      commitment, escrow field, media vouchers, forward count).
    """

    msg_id: MessageId
    conv: ConversationId
    kind: Literal["message", "control"] = "message"
    content_type: ContentType = "text/plain"
    body: B64 = ""
    recipients: list[RatchetCiphertext] = Field(default_factory=list, max_length=1000)
    group: GroupRef | None = None
    group_ratchet: B64 | None = None
    attachments: list[str] = Field(default_factory=list, max_length=10)
    commitment: B64 | None = None
    escrow: B64 | None = None
    extensions: dict[str, Any] = Field(default_factory=dict)


class FrankingTag(WireModel):
    kid: str
    tag: B64


class SendReceipt(WireModel):
    msg_id: MessageId
    server_ts: int  # milliseconds since the epoch, authoritative
    duplicate: bool = False  # True when this msg_id was already accepted with the same content
    franking: FrankingTag | None = None


class QueueItem(WireModel):
    """One delivery to one device. It stays queued until that device acks ``seq``."""

    seq: int
    kind: Literal["message", "control", "notice"]
    msg_id: MessageId
    conv: str
    sender: str
    sender_device: str
    server_ts: int
    content_type: str
    body: B64
    ratchet: RatchetCiphertext | None = None
    group: GroupRef | None = None
    group_ratchet: B64 | None = None
    attachments: list[str] = Field(default_factory=list)
    commitment: B64 | None = None
    escrow: B64 | None = None
    franking: FrankingTag | None = None
    envelope: dict[str, Any] = Field(default_factory=dict)  # the server's env (franking input)
    extensions: dict[str, Any] = Field(default_factory=dict)


class QueuePage(WireModel):
    items: list[QueueItem]
    more: bool


class AckRequest(WireModel):
    seqs: list[int] = Field(min_length=1, max_length=1000)


class AckResponse(WireModel):
    acked: int


# --- attachments -------------------------------------------------------------------------------


class AttachmentUploaded(WireModel):
    attachment_id: str
    size: int
    sha256: str  # hex of the ciphertext


# --- groups ------------------------------------------------------------------------------------


class GroupCreate(WireModel):
    group_id: GroupId
    members: list[AccountName] = Field(min_length=1, max_length=256)


class GroupInfo(WireModel):
    group_id: GroupId
    members: list[AccountName]
    admins: list[AccountName]
    membership_epoch: int


class MembershipChange(WireModel):
    add: list[AccountName] = Field(default_factory=list, max_length=256)
    remove: list[AccountName] = Field(default_factory=list, max_length=256)


class Health(WireModel):
    status: Literal["ok"]
    version: str
    roles: list[str]
