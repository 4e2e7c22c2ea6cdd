"""Franked metadata: what the sender commits to alongside the body (travels inside the ratchet).

``C(meta)`` is RFC 8785 canonical JSON of ``FrankingMeta.to_json()``; bytes are base64url.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from fulcrum.franking._canon import meta_canonical
from fulcrum.franking._fields import (
    DIGEST_BYTES,
    MSG_ID_BYTES,
    check_bool,
    check_bytes,
    check_id,
    check_int,
    dec,
    enc,
    exact_keys,
)
from fulcrum.franking.errors import FrankingFormatError

META_VERSION = 1
GENESIS_PREV = bytes(32)  # ``prev`` of a sender's first message in a conversation
MAX_ATTACHMENTS = 10

_ATT_KEYS = frozenset({"sha256_plain", "size", "mime", "key_commit"})
_META_KEYS = frozenset(
    {
        "v",
        "sender",
        "sender_device",
        "conv",
        "msg_id",
        "client_ts",
        "content_type",
        "prev",
        "attachments",
        "forwarded",
        "forward_count",
    }
)
_META_OPTIONAL = frozenset({"reply_to"})


@dataclass(frozen=True)
class AttachmentRef:
    """One attachment as franked: plaintext hash, size, type and the key commitment (02)."""

    sha256_plain: bytes
    size: int
    mime: str
    key_commit: bytes

    def __post_init__(self) -> None:
        check_bytes("sha256_plain", self.sha256_plain, DIGEST_BYTES)
        check_int("size", self.size)
        check_id("mime", self.mime, max_chars=128)
        check_bytes("key_commit", self.key_commit, DIGEST_BYTES)

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256_plain": enc(self.sha256_plain),
            "size": self.size,
            "mime": self.mime,
            "key_commit": enc(self.key_commit),
        }

    @classmethod
    def from_json(cls, obj: object) -> AttachmentRef:
        data = exact_keys(obj, "attachment", _ATT_KEYS)
        return cls(
            sha256_plain=dec("sha256_plain", data["sha256_plain"], DIGEST_BYTES),
            size=data["size"],
            mime=data["mime"],
            key_commit=dec("key_commit", data["key_commit"], DIGEST_BYTES),
        )


@dataclass(frozen=True)
class FrankingMeta:
    """The sender's franked claims about one message.

    ``prev`` is the commitment of the previous message sent by this sender *device* in this
    conversation (``GENESIS_PREV`` for its first). ``forward_count`` is how many times the content
    had been forwarded before this message (0 = original); it drives the forwarding limits.
    """

    sender: str
    sender_device: str
    conv: str
    msg_id: bytes
    client_ts: int
    content_type: str
    prev: bytes = GENESIS_PREV
    attachments: tuple[AttachmentRef, ...] = ()
    reply_to: bytes | None = None
    forward_count: int = 0
    v: int = META_VERSION

    def __post_init__(self) -> None:
        if self.v != META_VERSION:
            raise FrankingFormatError(f"unsupported franking meta version {self.v!r}")
        check_id("sender", self.sender)
        check_id("sender_device", self.sender_device)
        check_id("conv", self.conv)
        check_bytes("msg_id", self.msg_id, MSG_ID_BYTES)
        check_int("client_ts", self.client_ts)
        check_int("forward_count", self.forward_count)
        check_id("content_type", self.content_type, max_chars=128)
        check_bytes("prev", self.prev, DIGEST_BYTES)
        if not isinstance(self.attachments, tuple) or not all(
            isinstance(a, AttachmentRef) for a in self.attachments
        ):
            raise FrankingFormatError("attachments must be a tuple of AttachmentRef")
        if len(self.attachments) > MAX_ATTACHMENTS:
            raise FrankingFormatError(f"at most {MAX_ATTACHMENTS} attachments")
        if self.reply_to is not None:
            check_bytes("reply_to", self.reply_to, MSG_ID_BYTES)

    @property
    def forwarded(self) -> bool:
        return self.forward_count > 0

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "v": self.v,
            "sender": self.sender,
            "sender_device": self.sender_device,
            "conv": self.conv,
            "msg_id": enc(self.msg_id),
            "client_ts": self.client_ts,
            "content_type": self.content_type,
            "prev": enc(self.prev),
            "attachments": [a.to_json() for a in self.attachments],
            "forwarded": self.forwarded,
            "forward_count": self.forward_count,
        }
        if self.reply_to is not None:
            data["reply_to"] = enc(self.reply_to)
        return data

    @cached_property
    def _canonical(self) -> bytes:
        return meta_canonical(self)  # == canonical_json(self.to_json()), written directly

    def canonical(self) -> bytes:
        """``C(meta)``: the bytes that go into the commitment."""
        return self._canonical

    @classmethod
    def from_json(cls, obj: object) -> FrankingMeta:
        data = exact_keys(obj, "meta", _META_KEYS, _META_OPTIONAL)
        atts = data["attachments"]
        if not isinstance(atts, list):
            raise FrankingFormatError("attachments must be a list")
        meta = cls(
            v=check_int("v", data["v"]),
            sender=data["sender"],  # strings and ints are checked by __post_init__
            sender_device=data["sender_device"],
            conv=data["conv"],
            msg_id=dec("msg_id", data["msg_id"], MSG_ID_BYTES),
            client_ts=data["client_ts"],
            content_type=data["content_type"],
            prev=dec("prev", data["prev"], DIGEST_BYTES),
            attachments=tuple(AttachmentRef.from_json(a) for a in atts),
            reply_to=dec("reply_to", data["reply_to"], MSG_ID_BYTES)
            if "reply_to" in data
            else None,
            forward_count=data["forward_count"],
        )
        if check_bool("forwarded", data["forwarded"]) != meta.forwarded:
            raise FrankingFormatError("forwarded disagrees with forward_count")
        return meta
