"""The batch-native send path (``POST /v1/messages:batch``): one transaction, set-based SQL.

``accept_batch_native`` answers a batch with a handful of statements whatever its size: one
SELECT for idempotency (all message ids), one for the recipient devices of all direct
conversations, each hook once over the whole batch (``hooks.before_accept_all``), then one
multi-row INSERT each for the messages (franking tags included), their attachment links and their
queue rows.

Per-envelope answers stay exactly those of ``POST /v1/messages``:

* an envelope that fails the relay's own checks (unknown device, malformed conversation...) gets
  its typed error and is left out before any hook runs, so it changes nothing;
* a repeated msg_id (an earlier batch, or earlier in this batch) is answered as a duplicate or a
  409 conflict: repeats inside a batch are handled in later waves, after the first occurrence;
* a hook refusal, a late decoding error or a hook asking for it (``BatchFallback``) raises
  ``ReplayExactly``: the caller rolls the transaction back and runs the batch through
  ``sending.accept_batch`` (one savepoint per envelope), the reference path, which then gives
  the refused envelope its own typed error and the others their receipts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from fulcrum.server.errors import ApiError
from fulcrum.server.hooks import (
    BatchFallback,
    HookChain,
    SendRefused,
    after_accept_all,
    before_accept_all,
)
from fulcrum.server.sending import (
    Accepted,
    DirectoryView,
    Prepared,
    _receipt_for,
    content_hash,
    dm_accounts,
    new_message,
    prepare,
)
from fulcrum.store import DeviceRecord, MessageStore
from fulcrum.wire.api import EnvelopeIn, SendReceipt


class ReplayExactly(Exception):
    """The batch must be rolled back and replayed envelope by envelope."""


def waves(envelopes: Sequence[EnvelopeIn]) -> list[list[int]]:
    """Indices split so that no msg_id repeats within a wave; a repeat goes to the next wave
    (after its first occurrence is stored, it is answered as a duplicate, as in order)."""
    out: list[list[int]] = []
    placed: dict[str, int] = {}
    for i, envelope in enumerate(envelopes):
        wave = placed.get(envelope.msg_id, -1) + 1
        placed[envelope.msg_id] = wave
        if wave == len(out):
            out.append([])
        out[wave].append(i)
    return out


def accept_batch_native(
    session: Session,
    envelopes: Sequence[EnvelopeIn],
    sender: DeviceRecord,
    hooks: HookChain,
    now_ms: Callable[[], int],
) -> list[Accepted | ApiError]:
    """Accept a batch in the caller's transaction; raises ``ReplayExactly`` (roll back and use
    ``sending.accept_batch``) when a hook refuses an envelope or asks for it."""
    out: list[Accepted | ApiError | None] = [None] * len(envelopes)
    digests = [content_hash(e) for e in envelopes]
    directory = DirectoryView(session)
    for wave in waves(envelopes):
        _accept_wave(session, wave, envelopes, digests, sender, hooks, now_ms, directory, out)
    done = [o for o in out if o is not None]
    assert len(done) == len(envelopes)
    return done


def _accept_wave(
    session: Session,
    wave: list[int],
    envelopes: Sequence[EnvelopeIn],
    digests: list[str],
    sender: DeviceRecord,
    hooks: HookChain,
    now_ms: Callable[[], int],
    directory: DirectoryView,
    out: list[Accepted | ApiError | None],
) -> None:
    messages = MessageStore(session)
    previous = messages.find_many(sender.account, [envelopes[i].msg_id for i in wave])
    fresh: list[int] = []
    for i in wave:
        earlier = previous.get(envelopes[i].msg_id)
        if earlier is None:
            fresh.append(i)
            continue
        try:
            out[i] = Accepted(_receipt_for(earlier, digests[i]), ())
        except ApiError as exc:
            out[i] = exc
    directory.prefetch([a for i in fresh for a in dm_accounts(envelopes[i].conv)])
    planned: list[tuple[int, Prepared]] = []
    for i in fresh:
        try:
            prepared = prepare(session, envelopes[i], sender, digests[i], now_ms(), directory)
        except ApiError as exc:  # the relay's own checks run before any hook: nothing written
            out[i] = exc
            continue
        planned.append((i, prepared))
    if not planned:
        return
    ctxs = [p.ctx for _, p in planned]
    try:
        for hook in hooks.send:
            before_accept_all(hook, ctxs)
        receipts = [  # from validated input and the server's clock: no validation needed
            SendReceipt.model_construct(msg_id=c.envelope.msg_id, server_ts=c.server_ts)
            for c in ctxs
        ]
        for hook in hooks.send:
            receipts = after_accept_all(hook, ctxs, receipts)
        rows = [
            (new_message(p, r.franking), p.deliveries)
            for (_, p), r in zip(planned, receipts, strict=True)
        ]
    except (SendRefused, ApiError, BatchFallback) as exc:
        raise ReplayExactly(type(exc).__name__) from exc
    pushes = messages.accept_many(rows)
    for (i, _), receipt, queued in zip(planned, receipts, pushes, strict=True):
        out[i] = Accepted(receipt, tuple(queued))
