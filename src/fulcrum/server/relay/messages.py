"""Sending, the per-device queue, acks and the WebSocket push channel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response, WebSocket
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from starlette.websockets import WebSocketDisconnect

from fulcrum.encoding import b64e
from fulcrum.server.auth import authenticated_device, device_for_token
from fulcrum.server.errors import ApiError, error_response, error_responses, forbidden
from fulcrum.server.relay.batch import ReplayExactly, accept_batch_native
from fulcrum.server.relay.common import now_ms, state_of
from fulcrum.server.sending import Accepted, accept_batch, accept_envelope, is_duplicate_race
from fulcrum.server.state import RelayState, relay_state
from fulcrum.store import AckRefused, DeliveryQueue, DeviceRecord, MessageStore, QueuedMessage
from fulcrum.wire.api import (
    AckRequest,
    AckResponse,
    EnvelopeIn,
    ErrorDetail,
    FrankingTag,
    GroupRef,
    QueueItem,
    QueuePage,
    RatchetCiphertext,
    SendReceipt,
)
from fulcrum.wire.batch import BatchReceipt, BatchResult, SendBatch

router = APIRouter(tags=["messages"])
Caller = Depends(authenticated_device)
LOG = logging.getLogger("fulcrum.server.relay")


async def _push(state: RelayState, pushes: tuple[tuple[str, int], ...]) -> None:
    for device_id, seq in pushes:
        await state.hub.publish(device_id, {"type": "queued", "seq": seq})


def _accept_one(state: RelayState, body: EnvelopeIn, caller: DeviceRecord) -> Accepted:
    """The whole send transaction, on one worker thread; returns after commit."""
    try:
        with state.db.write() as session:
            return accept_envelope(session, body, caller, state.hooks, now_ms)
    except IntegrityError as exc:
        if not is_duplicate_race(exc):
            raise
        with state.db.read() as session:  # a concurrent retry won: answer as a duplicate
            previous = MessageStore(session).find(caller.account, body.msg_id)
        if previous is None:
            raise
        with state.db.write() as session:
            return accept_envelope(session, body, caller, state.hooks, now_ms)


def _accept_many(
    state: RelayState, envelopes: list[EnvelopeIn], caller: DeviceRecord
) -> list[Accepted | ApiError]:
    """The batch-native path in one transaction; if a hook refuses an envelope (or a concurrent
    send of the same msg_id won a race), roll it all back and replay the batch envelope by
    envelope in savepoints, which gives every envelope exactly its single-send answer."""
    try:
        with state.db.write() as session:
            return accept_batch_native(session, envelopes, caller, state.hooks, now_ms)
    except ReplayExactly as exc:
        LOG.debug("batch replayed envelope by envelope (%s)", exc)
    except IntegrityError as exc:
        if not is_duplicate_race(exc):
            raise
    with state.db.write() as session:
        return accept_batch(session, envelopes, caller, state.hooks, now_ms)


def _record(state: RelayState, body: EnvelopeIn, caller: DeviceRecord, accepted: Accepted) -> None:
    if accepted.receipt.duplicate:
        return
    state.metrics.messages_accepted.labels(body.kind).inc()
    state.metrics.deliveries_enqueued.inc(len(accepted.pushes))
    if LOG.isEnabledFor(logging.INFO):
        LOG.info(
            "accepted",
            extra={
                "event": "message_accepted",
                "msg_id": body.msg_id,
                "account": caller.account,
                "device": caller.id,
                "recipients": len(accepted.pushes),
            },
        )


@router.post("/messages", response_model=SendReceipt, responses=error_responses(401, 403, 404, 409))
async def send_message(
    body: EnvelopeIn, request: Request, caller: DeviceRecord = Caller
) -> SendReceipt:
    """Accept one envelope and queue it for every recipient device (idempotent on msg_id).

    The receipt is sent only after the transaction holding the message has committed."""
    state = state_of(request)
    accepted = await run_in_threadpool(_accept_one, state, body, caller)
    _record(state, body, caller, accepted)
    await _push(state, accepted.pushes)
    return accepted.receipt


@router.post(
    "/messages:batch", response_model=BatchReceipt, responses=error_responses(401, 403, 404, 409)
)
async def send_batch(body: SendBatch, request: Request, caller: DeviceRecord = Caller) -> Response:
    """Accept up to 100 envelopes in one transaction; one result per envelope, in order.

    Each envelope gets exactly what ``POST /v1/messages`` would answer (receipt or typed error,
    with its status); a refused envelope changes nothing. Answered after commit."""
    state = state_of(request)
    outcomes = await run_in_threadpool(_accept_many, state, body.envelopes, caller)
    results: list[BatchResult] = []
    newest: dict[str, int] = {}  # one push per recipient device per batch: its newest seq
    for envelope, outcome in zip(body.envelopes, outcomes, strict=True):
        if isinstance(outcome, ApiError):
            detail = ErrorDetail(code=outcome.code, message=outcome.message)
            results.append(BatchResult(msg_id=envelope.msg_id, status=outcome.status, error=detail))
            continue
        _record(state, envelope, caller, outcome)
        for device_id, seq in outcome.pushes:
            newest[device_id] = max(seq, newest.get(device_id, 0))
        results.append(BatchResult(msg_id=envelope.msg_id, status=200, receipt=outcome.receipt))
    await _push(state, tuple(newest.items()))
    # serialised directly: the results are built from validated values (no second validation)
    answer = BatchReceipt(results=results).model_dump_json().encode()
    return Response(answer, media_type="application/json")


def _item(q: QueuedMessage, device: DeviceRecord) -> QueueItem:
    ratchet = None
    if q.ratchet_type is not None and q.ratchet_body is not None:
        ratchet = RatchetCiphertext(
            account=device.account,
            device_id=device.id,
            type=0 if q.ratchet_type == 0 else 1,
            body=b64e(q.ratchet_body),
        )
    kind = q.kind if q.kind in ("message", "control", "notice") else "notice"
    return QueueItem(
        seq=q.seq,
        kind=kind,
        msg_id=q.msg_id,
        conv=q.conv,
        sender=q.sender,
        sender_device=q.sender_device,
        server_ts=q.server_ts,
        content_type=q.content_type,
        body=b64e(q.body),
        ratchet=ratchet,
        group=(
            GroupRef(group_id=q.group_id, membership_epoch=q.membership_epoch)
            if q.group_id is not None and q.membership_epoch is not None
            else None
        ),
        group_ratchet=b64e(q.group_ratchet) if q.group_ratchet is not None else None,
        attachments=list(q.attachments),
        commitment=b64e(q.commitment) if q.commitment is not None else None,
        escrow=b64e(q.escrow) if q.escrow is not None else None,
        franking=(
            FrankingTag(kid=q.franking_kid, tag=b64e(q.franking_tag))
            if q.franking_kid is not None and q.franking_tag is not None
            else None
        ),
        envelope=q.env,
        extensions=q.extensions,
    )


@router.get("/queue", response_model=QueuePage, responses=error_responses(401))
async def fetch_queue(
    request: Request,
    limit: int | None = Query(default=None, ge=1, le=1000),
    after: int = Query(default=0, ge=0),
    caller: DeviceRecord = Caller,
) -> Response:
    """The calling device's unacked deliveries with ``seq > after``, oldest first."""
    state = state_of(request)
    size = min(limit or state.settings.queue_page_size, 1000)

    def page() -> bytes:
        with state.db.read() as session:
            rows, more = DeliveryQueue(session).page(caller.id, after=after, limit=size)
        items = [_item(r, caller) for r in rows]
        for hook in state.hooks.delivery:
            items = [hook.prepare(caller, it) for it in items]
        # serialised here, on the worker thread: the page is validated once, as it is built
        return QueuePage(items=items, more=more).model_dump_json().encode()

    return Response(await run_in_threadpool(page), media_type="application/json")


@router.post("/queue/ack", response_model=AckResponse, responses=error_responses(401, 403))
async def ack_queue(
    body: AckRequest, request: Request, caller: DeviceRecord = Caller
) -> AckResponse:
    """Acknowledge deliveries; all or nothing: any seq that is not the caller's refuses the lot."""
    state = state_of(request)

    def ack() -> int:
        with state.db.write() as session:
            return DeliveryQueue(session).ack(caller.id, body.seqs)

    try:
        acked = await run_in_threadpool(ack)
    except AckRefused as exc:
        raise forbidden("some seqs are not this device's deliveries") from exc
    state.metrics.acks.inc(acked)
    return AckResponse(acked=acked)


def _bearer(ws: WebSocket) -> str | None:
    header = ws.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _deny(ws: WebSocket) -> None:
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(
            error_response(401, "unauthorized", "missing or invalid bearer token")
        )
    else:
        await ws.close(code=1008)


async def _pending(state: RelayState, device_id: str) -> int:
    def count() -> int:
        with state.db.read() as session:
            return DeliveryQueue(session).pending_count(device_id)

    return await run_in_threadpool(count)


@router.websocket("/ws")
async def push_channel(ws: WebSocket) -> None:
    """Push channel: ``{"type":"hello","unacked":n}`` on connect, then ``{"type":"queued",
    "seq":n}`` per new delivery (one per batch request, with the batch's newest seq for this
    device). Authenticate with ``Authorization: Bearer <token>``."""
    state = relay_state(ws.app)
    token = _bearer(ws)
    device = await run_in_threadpool(device_for_token, state, token) if token else None
    if device is None or device.suspended:
        await _deny(ws)
        return
    ws.scope.setdefault("state", {}).update(account=device.account, device=device.id)
    subscription = await state.hub.subscribe(device.id)
    state.metrics.websockets.inc()
    try:
        await ws.accept()
        await ws.send_json({"type": "hello", "unacked": await _pending(state, device.id)})
        await _pump(ws, subscription.next_event)
    except WebSocketDisconnect:
        pass
    finally:
        await subscription.close()
        state.metrics.websockets.dec()


async def _pump(ws: WebSocket, next_event: Any) -> None:
    """Forward hub events until the client goes away (client frames are read and ignored)."""

    async def drain_client() -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return

    reader = asyncio.create_task(drain_client())
    try:
        while True:
            getter = asyncio.create_task(next_event())
            done, _ = await asyncio.wait({reader, getter}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                getter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await getter
                return
            await ws.send_json(getter.result())
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await reader
