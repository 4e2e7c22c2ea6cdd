"""Hook points on the send and delivery paths.

Later layers plug in here without touching the relay routes: franking tags (``after_accept``),
metadata rules for minor protection and voucher processing (``before_accept``), warrant retention
(``after_accept``), safety notices (``DeliveryHook``). Hooks run inside the send transaction, in
order, on a worker thread; a refusal rolls everything back.

Batches (``POST /v1/messages:batch``) first try the batch-native path: every hook sees the whole
batch at once through ``before_accept_all``/``after_accept_all``, which call a hook's optional
``before_accept_batch``/``after_accept_batch`` (set-based reads, one look-up per batch) or else
loop over the per-envelope methods. On that path ``after_accept`` runs before the rows are
written (in the same transaction). Any refusal there, or a hook raising ``BatchFallback``, makes
the relay roll the batch back and replay it envelope by envelope, each in its own savepoint, so
that per-envelope decisions and typed errors are exactly those of ``POST /v1/messages``. A hook's
batch form must therefore have no effect outside the transaction before it refuses.

A refusal may carry effects that must outlive its envelope's rollback (a rule's counters, its
audit record, notices): an exception with a ``keep_after_rollback(session, now_ms)`` method. The
batch replay calls it in the batch's transaction right after the refused envelope's savepoint
rolled back; a single send's exception handler calls it in a fresh transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from fulcrum.store.records import DeviceRecord, GroupRecord
from fulcrum.wire.api import EnvelopeIn, QueueItem, SendReceipt


class SendRefused(Exception):
    """Raised by a ``SendHook`` to refuse a message; answered as a typed error."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class BatchFallback(Exception):
    """Raised by a hook's batch form: this batch must run envelope by envelope (for example
    because the hook has effects outside the database that a replay would repeat)."""


@dataclass(frozen=True)
class SendContext:
    """Everything the relay knows about one accepted-to-be message (never any plaintext)."""

    sender: DeviceRecord
    envelope: EnvelopeIn
    env: dict[str, Any]  # the server's envelope: the franking input
    server_ts: int
    recipient_devices: tuple[str, ...]  # sorted "account/device_id"
    group: GroupRecord | None
    session: Session  # the open send transaction
    # per-envelope values a hook hands from before_accept to after_accept (never stored)
    scratch: dict[str, Any] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:  # keep ciphertexts out of logs and tracebacks
        return f"SendContext(msg_id={self.envelope.msg_id!r}, sender={self.sender.account!r})"


class SendHook(Protocol):
    def before_accept(self, ctx: SendContext) -> None:
        """Check the message; raise ``SendRefused`` to refuse it."""

    def after_accept(self, ctx: SendContext, receipt: SendReceipt) -> SendReceipt:
        """Runs after the rows are written, before commit; may return an amended receipt
        (e.g. with a franking tag, which the relay then stores and delivers)."""


class BatchSendHook(SendHook, Protocol):
    """A ``SendHook`` with a set-based form for batches (all contexts share one sender and one
    transaction; the per-envelope methods stay the reference for single sends and replays)."""

    def before_accept_batch(self, ctxs: Sequence[SendContext]) -> None:
        """``before_accept`` for every context, in order; raise to refuse (the batch replays)."""

    def after_accept_batch(
        self, ctxs: Sequence[SendContext], receipts: Sequence[SendReceipt]
    ) -> list[SendReceipt]:
        """``after_accept`` for every context, in order; returns the receipts."""


def before_accept_all(hook: SendHook, ctxs: Sequence[SendContext]) -> None:
    """Run ``hook`` over a batch: its batch form if it has one, else envelope by envelope."""
    batch = getattr(hook, "before_accept_batch", None)
    if batch is not None:
        batch(ctxs)
        return
    for ctx in ctxs:
        hook.before_accept(ctx)


def after_accept_all(
    hook: SendHook, ctxs: Sequence[SendContext], receipts: Sequence[SendReceipt]
) -> list[SendReceipt]:
    batch = getattr(hook, "after_accept_batch", None)
    if batch is not None:
        out: list[SendReceipt] = batch(ctxs, receipts)
        return out
    return [hook.after_accept(c, r) for c, r in zip(ctxs, receipts, strict=True)]


class DeliveryHook(Protocol):
    def prepare(self, device: DeviceRecord, item: QueueItem) -> QueueItem:
        """Runs for each item handed to ``device`` in a queue page; may annotate it."""


class GroupHook(Protocol):
    def before_add(
        self, session: Session, group_id: str, adder: str, added: Sequence[str], now_ms: int
    ) -> None:
        """Runs in the membership transaction before ``added`` join ``group_id`` (at creation
        or by an admin); raise ``SendRefused`` (or an ``ApiError``) to refuse the change."""


@dataclass
class HookChain:
    """The hooks installed in an app (``app.state.fulcrum.hooks``); order is execution order."""

    send: list[SendHook]
    delivery: list[DeliveryHook]
    group: list[GroupHook] = field(default_factory=list)

    @classmethod
    def empty(cls) -> HookChain:
        return cls(send=[], delivery=[])
