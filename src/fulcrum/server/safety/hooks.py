"""Minor protection on the message and group paths: metadata in, refusal or notices out.

The send hook reads only metadata: sender, recipient accounts, server time, whether the envelope
carries attachments or a non-text content type, ``extensions["forward_count"]`` and
``extensions["forward_batch"]``, and whether the conversation is a group. It never looks at
bodies or ratchet payloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from fulcrum.safety import GroupMemberAdded, MessageSent, SafetyEngine
from fulcrum.safety.store import ConnectionRecord, pair_key
from fulcrum.server.hooks import SendContext
from fulcrum.server.safety.service import SafetyService
from fulcrum.store.safety import SafetyConnection, SqlSafetyStore, _connection
from fulcrum.store.safety_cache import AccountCache
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


class BatchSafetyStore(SqlSafetyStore):
    """The SQL store for one batch of sends by one account: the connections between the sender
    and all recipients of the batch are read in one SELECT and then answered from memory
    (write-through: ``put_connection``/``delete_connection`` keep the copy current). Used for
    one transaction only, like ``SqlSafetyStore``."""

    def __init__(self, session: Session, accounts: AccountCache | None = None) -> None:
        super().__init__(session, accounts)
        self._pairs: dict[tuple[str, str], ConnectionRecord | None] = {}

    def prefetch_connections(self, account: str, others: Iterable[str]) -> None:
        wanted = {pair_key(account, o) for o in others if o != account} - set(self._pairs)
        if not wanted:
            return
        lower = sorted(b for a, b in wanted if a == account)  # account sorts first: (account, b)
        upper = sorted(a for a, b in wanted if b == account)  # account sorts last: (a, account)
        rows = self.session.scalars(
            select(SafetyConnection).where(
                or_(
                    and_(SafetyConnection.a == account, SafetyConnection.b.in_(lower)),
                    and_(SafetyConnection.b == account, SafetyConnection.a.in_(upper)),
                )
            )
        )
        for key in wanted:
            self._pairs[key] = None
        for row in rows:
            self._pairs[(row.a, row.b)] = _connection(row)

    def connection(self, a: str, b: str) -> ConnectionRecord | None:
        key = pair_key(a, b)
        if key in self._pairs:
            return self._pairs[key]
        return super().connection(a, b)

    def put_connection(self, record: ConnectionRecord) -> None:
        super().put_connection(record)
        self._pairs[pair_key(record.requester, record.recipient)] = record

    def delete_connection(self, a: str, b: str) -> None:
        super().delete_connection(a, b)
        self._pairs[pair_key(a, b)] = None


class SafetySendHook:
    def __init__(self, service: SafetyService) -> None:
        self.service = service

    def before_accept_batch(self, ctxs: Sequence[SendContext]) -> None:
        """``before_accept`` for a batch of one sender's envelopes with one engine and one store:
        accounts, blocks against the sender, connections and the sender's signals are each read
        once for the batch; then every envelope is checked in order, as one by one."""
        events = [(ctx, e) for ctx in ctxs if (e := message_event(ctx)) is not None]
        if not events:
            return
        session = events[0][0].session
        store = BatchSafetyStore(session, self.service.accounts)
        store.prefetch({n for _, e in events for n in (e.sender, *e.recipients)})
        engine = SafetyEngine(store, self.service.policy)
        for sender in {e.sender for _, e in events}:
            direct = {r for _, e in events if e.sender == sender and not e.is_group
                      for r in e.recipients}  # fmt: skip
            store.prefetch_blocks(sender, direct)
            store.prefetch_connections(sender, direct)
        for ctx, event in events:
            decisions = engine.check_message(event)
            applied = self.service.act(session, engine, decisions, ctx.server_ts)
            self.service.refuse_if_needed(applied, event)

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
