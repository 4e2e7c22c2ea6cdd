"""The SDK's outbox flush through ``POST /v1/messages:batch``: one request for many queued
envelopes, accepted ones leave the outbox, a refused one stays (and is raised), retryable answers
are retried with backoff, and a repeat is answered as a duplicate."""

from __future__ import annotations

from typing import Any

import pytest

from fulcrum.client.core import ReceivedMessage
from fulcrum.client.sdk import FulcrumClient
from fulcrum.client.transport import ApiError, ServerUnreachable
from fulcrum.wire import api
from fulcrum.wire.batch import BatchReceipt, BatchResult, SendBatch

from .conftest import World

pytestmark = pytest.mark.integration


def texts(outcomes: list[object]) -> list[str]:
    return [o.text for o in outcomes if isinstance(o, ReceivedMessage)]


async def queue_offline(client: FulcrumClient, monkeypatch: pytest.MonkeyPatch, sends: Any) -> None:
    """Compose and persist envelopes while the server is unreachable (they stay in the outbox)."""

    async def unreachable(_envelope: api.EnvelopeIn) -> api.SendReceipt:
        raise ServerUnreachable("offline")

    with monkeypatch.context() as m:
        m.setattr(client.transport, "send", unreachable)
        for peer, text in sends:
            with pytest.raises(ServerUnreachable):
                await client.send_text(peer, text)


def record_calls(client: FulcrumClient, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the API paths the transport is asked for (single sends go through ``call`` too)."""
    paths: list[str] = []
    real_call = client.transport.call

    async def call(method: str, path: str, model: Any, **kw: Any) -> Any:
        paths.append(path)
        return await real_call(method, path, model, **kw)

    monkeypatch.setattr(client.transport, "call", call)
    return paths


async def test_flush_sends_the_outbox_in_one_batch(world: World, monkeypatch: pytest.MonkeyPatch):
    alice, bob = await world.user("alice"), await world.user("bob")
    await queue_offline(alice, monkeypatch, [("bob", f"offline {i}") for i in range(3)])
    assert len(alice.state.outbox) == 3
    queued = [api.EnvelopeIn.model_validate(e) for e in alice.state.outbox]
    paths = record_calls(alice, monkeypatch)
    assert await alice.flush_outbox() == 3
    assert paths == ["/messages:batch"] and alice.state.outbox == []
    assert texts(await bob.sync()) == ["offline 0", "offline 1", "offline 2"]
    # the same envelopes again (a flush that crashed before saving): all duplicates
    again = SendBatch(envelopes=queued)
    answer = await alice.transport.call("POST", "/messages:batch", BatchReceipt, body=again)
    assert [r.receipt.duplicate for r in answer.results if r.receipt] == [True] * 3
    assert await bob.sync() == []


async def test_flush_keeps_a_refused_envelope_and_records_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    alice, bob = await world.user("alice"), await world.user("bob")
    await world.user("kid", birth_year=2016)  # minor protection refuses a stranger's first chat
    sends = [("bob", "one"), ("kid", "hi kid"), ("bob", "two")]
    await queue_offline(alice, monkeypatch, sends)
    kid_msg = alice.state.outbox[1]["msg_id"]
    paths = record_calls(alice, monkeypatch)
    with pytest.raises(ApiError) as refused:
        await alice.flush_outbox()
    assert refused.value.status == 403 and refused.value.code == "safety_refused"
    assert paths == ["/messages:batch"]
    assert [e["msg_id"] for e in alice.state.outbox] == [kid_msg]  # only the refused one stays
    assert texts(await bob.sync()) == ["one", "two"]


async def test_flush_retries_envelopes_answered_with_a_retryable_status(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    alice, bob = await world.user("alice"), await world.user("bob")
    await queue_offline(alice, monkeypatch, [("bob", f"m{i}") for i in range(3)])
    alice.transport.backoff = 0.01
    real_call = alice.transport.call
    sizes: list[int] = []

    async def flaky(method: str, path: str, model: Any, *, body: Any = None, **kw: Any) -> Any:
        assert isinstance(body, SendBatch)
        sizes.append(len(body.envelopes))
        if len(sizes) > 1:
            return await real_call(method, path, model, body=body, **kw)
        first, rest = body.envelopes[0], body.envelopes[1:]
        answer = await real_call(method, path, model, body=SendBatch(envelopes=rest), **kw)
        busy = BatchResult(
            msg_id=first.msg_id, status=503,
            error=api.ErrorDetail(code="unavailable", message="try again"),
        )  # fmt: skip
        return BatchReceipt(results=[busy, *answer.results])

    monkeypatch.setattr(alice.transport, "call", flaky)
    assert await alice.flush_outbox() == 3
    assert sizes == [3, 1] and alice.state.outbox == []
    assert sorted(texts(await bob.sync())) == ["m0", "m1", "m2"]


async def test_flush_of_one_envelope_uses_the_single_send(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    alice, bob = await world.user("alice"), await world.user("bob")
    await queue_offline(alice, monkeypatch, [("bob", "alone")])
    paths = record_calls(alice, monkeypatch)
    assert await alice.flush_outbox() == 1
    assert paths == ["/messages"] and alice.state.outbox == []
    assert texts(await bob.sync()) == ["alone"]
