"""Minor protection on the message and group paths: metadata in, refusal or notices out.

The send hook reads only metadata: sender, recipient accounts, server time, whether the envelope
carries attachments or a non-text content type, ``extensions["forward_count"]`` and
``extensions["forward_batch"]``, and whether the conversation is a group. It never looks at
bodies or ratchet payloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from fulcrum.safety import GroupMemberAdded, MessageSent
from fulcrum.server.hooks import SendContext
from fulcrum.server.safety.service import SafetyService
from fulcrum.wire.api import SendReceipt

TEXT_TYPES = ("text/plain",)


def forward_count(extensions: dict[str, Any]) -> int:
    value = extensions.get("forward_count", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def message_event(ctx: SendContext) -> MessageSent | None:
    env = ctx.envelope
    if env.kind != "message":
        return None  # key-sharing control messages are not user messages
    sender = ctx.sender.account
    if ctx.group is not None:
        recipients = tuple(m for m in ctx.group.members if m != sender)
    else:
        recipients = tuple(
            sorted({r.account for r in env.recipients if r.account != sender})
        ) or tuple(a for a in env.conv.removeprefix("dm:").split(":") if a != sender)
    batch = env.extensions.get("forward_batch")
    return MessageSent(
        sender=sender,
        recipients=recipients,
        conversation=env.conv,
        at=ctx.server_ts / 1000.0,
        has_media=bool(env.attachments) or env.content_type not in TEXT_TYPES,
        forward_count=forward_count(env.extensions),
        is_group=ctx.group is not None,
        forward_batch=batch if isinstance(batch, str) and 0 < len(batch) <= 64 else None,
    )


class SafetySendHook:
    def __init__(self, service: SafetyService) -> None:
        self.service = service

    def before_accept(self, ctx: SendContext) -> None:
        event = message_event(ctx)
        if event is None:
            return
        engine = self.service.engine(ctx.session, (event.sender, *event.recipients))
        store = engine.store
        if not event.is_group:
            store.prefetch_blocks(event.sender, event.recipients)  # type: ignore[attr-defined]
        decisions = engine.check_message(event)
        applied = self.service.act(ctx.session, engine, decisions, ctx.server_ts)
        self.service.refuse_if_needed(applied, event)

    def after_accept(self, ctx: SendContext, receipt: SendReceipt) -> SendReceipt:
        return receipt


class SafetyGroupHook:
    """Rule 5: minors join groups only when added by a connection (invite links: not yet)."""

    def __init__(self, service: SafetyService) -> None:
        self.service = service

    def before_add(
        self, session: Session, group_id: str, adder: str, added: Sequence[str], now_ms: int
    ) -> None:
        engine = self.service.engine(session, (adder, *added))
        for account in added:
            event = GroupMemberAdded(f"group:{group_id}", adder, account, now_ms / 1000.0)
            applied = self.service.act(session, engine, engine.check_group_add(event), now_ms)
            self.service.refuse_if_needed(applied, event)
