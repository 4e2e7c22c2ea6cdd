"""The ratchet payload: what Olm/Megolm carry for every message.

Vodozemac has no associated data, so the header fields travel inside the payload and the receiver
checks them against the clear envelope after decryption. The canonical header is also the AEAD
associated data of the body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from fulcrum.e2ee.content import AttachmentKey
from fulcrum.e2ee.errors import DecryptionFailed
from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json_flat, parse_json_object

PAYLOAD_VERSION = 1
MAX_SAFE_INT = 2**53 - 1


@dataclass(frozen=True)
class MessageHeader:
    conv: str
    sender: str
    sender_device: str
    recipients: tuple[str, ...]  # sorted "account/device" of every device it was encrypted for
    msg_id: str
    client_ts: int  # milliseconds, the sender's claim
    content_type: str
    group_id: str | None = None
    membership_epoch: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "conv": self.conv,
            "sender": self.sender,
            "sender_device": self.sender_device,
            "recipients": list(self.recipients),
            "msg_id": self.msg_id,
            "client_ts": self.client_ts,
            "content_type": self.content_type,
        }
        if self.group_id is not None:
            data["group"] = {"group_id": self.group_id, "membership_epoch": self.membership_epoch}
        return data

    def canonical(self) -> bytes:
        """RFC 8785 bytes of the header: the AEAD associated data of the body."""
        return self._canonical

    @cached_property
    def _canonical(self) -> bytes:
        # the shape is fixed (ASCII keys, strings, a list of strings, ints checked below)
        if not 0 <= self.client_ts <= MAX_SAFE_INT:
            raise DecryptionFailed("client_ts out of range")
        if self.membership_epoch is not None and not 0 <= self.membership_epoch <= MAX_SAFE_INT:
            raise DecryptionFailed("membership_epoch out of range")
        return canonical_json_flat(self.to_json())

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MessageHeader:
        try:
            group = data.get("group")
            recipients = data["recipients"]
            if not isinstance(recipients, list) or recipients != sorted(recipients):
                raise DecryptionFailed("recipients must be a sorted list")
            return cls(
                conv=_str(data["conv"]),
                sender=_str(data["sender"]),
                sender_device=_str(data["sender_device"]),
                recipients=tuple(_str(r) for r in recipients),
                msg_id=_str(data["msg_id"]),
                client_ts=_int(data["client_ts"]),
                content_type=_str(data["content_type"]),
                group_id=None if group is None else _str(group["group_id"]),
                membership_epoch=None if group is None else _int(group["membership_epoch"]),
            )
        except (KeyError, TypeError) as exc:
            raise DecryptionFailed("malformed message header") from exc


@dataclass(frozen=True)
class RatchetPayload:
    header: MessageHeader
    k_m: bytes
    attachments: tuple[AttachmentKey, ...] = ()
    layers: dict[str, Any] = field(default_factory=dict)  # franking, forwarding, ... (secret)

    def __repr__(self) -> str:
        return f"RatchetPayload(msg_id={self.header.msg_id!r})"

    def encode(self) -> bytes:
        """Compact JSON (not canonical: only the header is authenticated, and it is
        re-canonicalised by the receiver from its parsed fields)."""
        return json.dumps(
            {
                "v": PAYLOAD_VERSION,
                "header": self.header.to_json(),
                "k_m": b64e(self.k_m),
                "attachments": [a.to_json() for a in self.attachments],
                "layers": self.layers,
            },
            separators=(",", ":"),
        ).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> RatchetPayload:
        try:
            obj = parse_json_object(data)
            if obj.get("v") != PAYLOAD_VERSION:
                raise DecryptionFailed("unsupported payload version")
            layers = obj.get("layers", {})
            if not isinstance(layers, dict):
                raise DecryptionFailed("malformed layers")
            return cls(
                header=MessageHeader.from_json(obj["header"]),
                k_m=b64d(_str(obj["k_m"]), length=32),
                attachments=tuple(AttachmentKey.from_json(a) for a in obj.get("attachments", [])),
                layers=layers,
            )
        except (KeyError, TypeError, EncodingError) as exc:
            raise DecryptionFailed("malformed ratchet payload") from exc


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise DecryptionFailed("expected a string")
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise DecryptionFailed("expected an integer")
    return value
