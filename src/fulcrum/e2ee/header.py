"""The message header: who sent what to which devices, bound to the body as AEAD associated data.

The associated data is the RFC 8785 canonical JSON of the header. Its shape is fixed (ASCII keys in
a fixed order, strings, one list of strings, safe integers), so it is written directly with the
standard library's JSON string escaper instead of a generic canonicaliser: the bytes equal
``canonical_json(header.to_json())`` (property-tested against ``rfc8785``), computed once per
header.
"""

from __future__ import annotations

from dataclasses import dataclass
from json.encoder import encode_basestring  # the escaper json.dumps(ensure_ascii=False) uses
from typing import Any

from fulcrum.e2ee.errors import DecryptionFailed
from fulcrum.encoding import EncodingError

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
        """RFC 8785 bytes of the header: the AEAD associated data of the body (computed once;
        the cache lives outside the dataclass fields, so equality and repr ignore it)."""
        cached: bytes | None = self.__dict__.get("_canonical_bytes")
        if cached is None:
            cached = self._encode_canonical()
            object.__setattr__(self, "_canonical_bytes", cached)
        return cached

    def _encode_canonical(self) -> bytes:
        ts = self.client_ts
        if type(ts) is not int or not 0 <= ts <= MAX_SAFE_INT:
            raise DecryptionFailed("client_ts out of range")
        epoch = self.membership_epoch
        if epoch is not None and not _safe_int(epoch):
            raise DecryptionFailed("membership_epoch out of range")
        esc = encode_basestring
        # keys in RFC 8785 order (all ASCII, so UTF-16 order is byte order); the escaper refuses
        # anything but strings with TypeError
        try:
            group = ""
            if self.group_id is not None:
                group = (
                    f',"group":{{"group_id":{esc(self.group_id)},"membership_epoch":'
                    f"{'null' if epoch is None else epoch}}}"
                )
            text = (
                f'{{"client_ts":{ts},"content_type":{esc(self.content_type)},'
                f'"conv":{esc(self.conv)}{group},"msg_id":{esc(self.msg_id)},'
                f'"recipients":[{",".join(map(esc, self.recipients))}],'
                f'"sender":{esc(self.sender)},"sender_device":{esc(self.sender_device)}}}'
            )
        except TypeError as exc:
            raise DecryptionFailed("header fields must be strings") from exc
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EncodingError("string holds a lone surrogate") from exc

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


def _safe_int(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_SAFE_INT


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise DecryptionFailed("expected a string")
    return value


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise DecryptionFailed("expected an integer")
    return value
