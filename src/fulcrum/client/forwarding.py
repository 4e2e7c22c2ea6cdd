"""Forwarding a message from local history to other chats (design note 07, rule 6).

A forward re-sends the text of a message this device has (sent or received) to up to
``MAX_CHATS`` chats. Every copy carries the message's forward count (hops so far, this one
included: 1 for a first forward) in three places that must agree:

* ``envelope.extensions["forward_count"]`` (clear; with ``forward_batch``, an id shared by the
  copies of one forward), which the relay reads to enforce its limits: at most 5 chats per
  forward, and 1 once the count reaches 5;
* the franked metadata (``FrankingMeta.forward_count``, which the franking layer takes from the
  extensions), so a report proves how often the message had been forwarded;
* the encrypted payload (``message.layers["forwarding"]``), which the recipient's
  ``ForwardingReceiveLayer`` checks against the envelope and remembers, so the recipient sees
  "forwarded" (``forward_count(client, msg_id)``).

The client checks the same limits before sending anything (``ForwardLimitExceeded``); the relay
enforces them regardless. Attachments are not forwarded yet (``ForwardError``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fulcrum.client.core import ClientError
from fulcrum.client.layers import IncomingMessage, OutgoingMessage
from fulcrum.client.transport import ApiError
from fulcrum.safety.policy import ForwardingPolicy
from fulcrum.wire.api import SendReceipt

if TYPE_CHECKING:
    from fulcrum.client.sdk import FulcrumClient
    from fulcrum.client.standard import LayerSet

NAME = "forwarding"
NOT_VERIFIED = "could not be verified (forward count)"
LIMITS = ForwardingPolicy()  # the relay's defaults: 5 chats, 1 once forwarded 5 times
GROUP_PREFIXES = ("group:", "#")


class ForwardError(ClientError):
    """A forward that cannot be made (unknown message, attachments, no targets)."""


class ForwardLimitExceeded(ForwardError):
    """More chats than the forwarding limit allows for this message's forward count."""

    def __init__(self, forward_count: int, chats: int, limit: int) -> None:
        super().__init__(
            f"a message forwarded {forward_count} times may go to at most {limit} chats per "
            f"forward; {chats} were given"
        )
        self.forward_count, self.chats, self.limit = forward_count, chats, limit


class ForwardRefused(ForwardError):
    """The relay refused one copy (e.g. rule 6 or a contact rule); earlier copies were sent."""

    def __init__(self, target: str, error: ApiError, sent: list[tuple[str, SendReceipt]]) -> None:
        super().__init__(f"forward to {target} refused: {error.message}")
        self.target, self.error, self.sent = target, error, sent


@dataclass(frozen=True)
class Forwarded:
    msg_id: str  # the forwarded message
    forward_count: int  # carried by every copy
    batch: str
    sent: list[tuple[str, SendReceipt]] = field(default_factory=list)  # (target, receipt)


def chat_limit(forward_count: int, limits: ForwardingPolicy = LIMITS) -> int:
    """Chats one forward may reach when its copies carry ``forward_count``."""
    if forward_count >= limits.frequently_forwarded_at:
        return limits.frequently_forwarded_max_chats
    return limits.max_chats


def _count(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31
    return value if ok else None


class ForwardingSendLayer:
    """Marks every message composed while it is installed as a forward (see ``forward``)."""

    name = NAME

    def __init__(self, forward_count: int, batch: str) -> None:
        self.forward_count = forward_count
        self.batch = batch

    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        message.extensions["forward_count"] = self.forward_count
        message.extensions["forward_batch"] = self.batch
        message.layers[NAME] = {"forward_count": self.forward_count}
        state.setdefault("sent", {})[message.header.msg_id] = self.forward_count


class ForwardingReceiveLayer:
    """Checks that the encrypted forward count matches the envelope's and remembers it."""

    name = NAME

    def on_receive(self, message: IncomingMessage, state: dict[str, Any]) -> str | None:
        inner = message.payload.layers.get(NAME)
        outer = _count(message.item.extensions.get("forward_count", 0))
        count = 0
        if inner is not None:
            found = _count(inner.get("forward_count")) if isinstance(inner, dict) else None
            if found is None:
                return NOT_VERIFIED
            count = found
        franked = message.payload.layers.get("franking")
        meta = franked.get("meta") if isinstance(franked, dict) else None
        in_meta = meta.get("forward_count", count) if isinstance(meta, dict) else count
        if outer != count or in_meta != count:
            return NOT_VERIFIED
        if count:
            state.setdefault("received", {})[message.item.msg_id] = count
        return None


def add_forwarding(layers: LayerSet) -> None:
    layers.receive.append(ForwardingReceiveLayer())


def forward_count(client: FulcrumClient, msg_id: str) -> int:
    """How many times message ``msg_id`` in local history had been forwarded (0: an original)."""
    state = client.core.layer_state.get(NAME, {})
    for bucket in ("received", "sent"):
        value = _count(state.get(bucket, {}).get(msg_id))
        if value:
            return value
    return 0


def history_entry(client: FulcrumClient, msg_id: str) -> dict[str, Any]:
    for entry in reversed(client.core.history):
        if entry["msg_id"] == msg_id:
            return dict(entry)
    raise ForwardError(f"message {msg_id} is not in this device's history")


def _group_id(target: str) -> str | None:
    for prefix in GROUP_PREFIXES:
        if target.startswith(prefix):
            return target.removeprefix(prefix)
    return None


async def forward(
    client: FulcrumClient,
    msg_id: str,
    targets: Sequence[str],
    *,
    check_limits: bool = True,
    limits: ForwardingPolicy = LIMITS,
) -> Forwarded:
    """Forward message ``msg_id`` to each target: an account name, or ``group:ID`` / ``#ID``.

    Every copy carries ``forward_count(msg_id) + 1`` and one fresh batch id. Raises
    ``ForwardLimitExceeded`` before sending when there are more targets than the limit (unless
    ``check_limits`` is False: the relay then refuses the copy past the limit) and
    ``ForwardRefused`` when the relay refuses a copy; a refused copy is dropped from the outbox."""
    entry = history_entry(client, msg_id)
    if entry.get("attachments"):
        raise ForwardError("forwarding messages with attachments is not supported yet")
    chats = list(dict.fromkeys(targets))
    if not chats:
        raise ForwardError("forward to at least one chat")
    count = forward_count(client, msg_id) + 1
    limit = chat_limit(count, limits)
    if check_limits and len(chats) > limit:
        raise ForwardLimitExceeded(count, len(chats), limit)
    result = Forwarded(msg_id, count, secrets.token_urlsafe(12))
    layer = ForwardingSendLayer(count, result.batch)
    saved = client.core.send_layers
    client.core.send_layers = [layer, *saved]  # first: franking reads the extensions it sets
    try:
        for target in chats:
            pending = {e["msg_id"] for e in client.state.outbox}
            group = _group_id(target)
            try:
                if group is not None:
                    receipt = await client.send_group(group, str(entry["text"]))
                else:
                    receipt = await client.send_text(target, str(entry["text"]))
            except ApiError as exc:
                if 400 <= exc.status < 500:  # refused for good: do not retry it from the outbox
                    client.state.outbox = [e for e in client.state.outbox if e["msg_id"] in pending]
                    client.save()
                raise ForwardRefused(target, exc, result.sent) from exc
            result.sent.append((target, receipt))
    finally:
        client.core.send_layers = saved
    return result


__all__ = [
    "NAME",
    "ForwardError",
    "ForwardLimitExceeded",
    "ForwardRefused",
    "Forwarded",
    "ForwardingReceiveLayer",
    "ForwardingSendLayer",
    "add_forwarding",
    "chat_limit",
    "forward",
    "forward_count",
    "history_entry",
]
