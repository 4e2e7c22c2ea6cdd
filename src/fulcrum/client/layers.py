"""Extension points of the client's send and receive paths.

Franking, escrow fields, media vouchers and metadata (forward counts) plug in here: each is a
``SendLayer`` that adds to an ``OutgoingMessage`` before it is encrypted, and a ``ReceiveLayer``
that verifies an ``IncomingMessage`` after decryption. A receive layer that returns a reason stops
the message from being displayed. Layers are pure; network data they need (an epoch key, a VOPRF
evaluation) is fetched by the SDK shell through ``prepare``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from fulcrum.e2ee.content import AttachmentKey
from fulcrum.e2ee.payload import MessageHeader, RatchetPayload
from fulcrum.wire.api import QueueItem


@dataclass
class OutgoingMessage:
    """A message being composed. Layers may fill ``layers`` (secret, inside the ratchet payload)
    and the clear envelope slots ``commitment``, ``escrow`` and ``extensions``."""

    header: MessageHeader
    body: bytes
    k_m: bytes
    attachments: list[AttachmentKey]
    attachment_plaintexts: dict[str, bytes]
    now: float
    layers: dict[str, Any] = field(default_factory=dict)
    commitment: bytes | None = None
    escrow: bytes | None = None
    extensions: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"OutgoingMessage(msg_id={self.header.msg_id!r})"


@dataclass
class IncomingMessage:
    """A decrypted message before it is shown."""

    item: QueueItem
    payload: RatchetPayload
    body: bytes
    attachments: dict[str, bytes]
    now: float

    def __repr__(self) -> str:
        return f"IncomingMessage(msg_id={self.item.msg_id!r})"


class SendLayer(Protocol):
    name: str

    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        """Add to the message; ``state`` is this layer's persisted JSON state."""


class ReceiveLayer(Protocol):
    name: str

    def on_receive(self, message: IncomingMessage, state: dict[str, Any]) -> str | None:
        """Return None to accept, or a short reason to hide the message as unverifiable."""
