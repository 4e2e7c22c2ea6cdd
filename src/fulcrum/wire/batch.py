"""Batch sending: several envelopes in one request (``POST /v1/messages:batch``).

Each envelope is checked and stored exactly as ``POST /v1/messages`` would (same hooks, same
idempotency on msg_id, same typed errors), in its own savepoint of one transaction: a refused
envelope changes nothing and does not affect the others. The response lists one result per
envelope, in request order, and is sent only after the transaction has committed.
"""

from __future__ import annotations

from pydantic import Field

from fulcrum.wire.api import EnvelopeIn, ErrorDetail, MessageId, SendReceipt, WireModel

MAX_BATCH = 100


class SendBatch(WireModel):
    envelopes: list[EnvelopeIn] = Field(min_length=1, max_length=MAX_BATCH)


class BatchResult(WireModel):
    """One envelope's outcome: ``status`` is what ``POST /v1/messages`` would have answered."""

    msg_id: MessageId
    status: int
    receipt: SendReceipt | None = None
    error: ErrorDetail | None = None


class BatchReceipt(WireModel):
    results: list[BatchResult]
