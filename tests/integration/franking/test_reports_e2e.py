"""Franking end to end on a real loopback server: send, verify, report, review, suspend."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.integration.client.conftest import World

from fulcrum.client.core import ReceivedMessage, Rejected
from fulcrum.client.franking_layer import NOT_VERIFIED, FrankingReceiveLayer, FrankingSendLayer
from fulcrum.client.franking_reports import build_report, report_message, submit_report
from fulcrum.client.layers import OutgoingMessage
from fulcrum.client.sdk import FulcrumClient
from fulcrum.client.transport import ApiError
from fulcrum.encoding import b64d, b64e
from fulcrum.franking import AbuseReport, ReasonCode, ReportAttestation, verify_attestation
from fulcrum.hazmat.signing import VerifyKey
from fulcrum.hazmat.symmetric import random_bytes
from fulcrum.server.franking import franking_state
from fulcrum.server.franking.operators import create_reviewer
from fulcrum.server.state import relay_state
from fulcrum.store.franking import FrankingKeyEvent, ReportItem

pytestmark = pytest.mark.integration


async def chat(world: World) -> tuple[FulcrumClient, FulcrumClient, list[str]]:
    """alice and bob exchange a few messages; returns bob's received message ids."""
    alice, bob = await world.user("alice"), await world.user("bob")
    await alice.send_text("bob", "hello bob")
    await bob.sync()
    await bob.send_text("alice", "hi alice")
    await alice.sync()
    await alice.send_text("bob", "second from alice")
    await alice.send_text("bob", "ABUSE-MARKER you will regret this")
    got = [o for o in await bob.sync() if isinstance(o, ReceivedMessage)]
    return alice, bob, [m.msg_id for m in got]


def _reviewer(world: World, role: str = "senior") -> httpx.Client:
    token = create_reviewer(relay_state(world.server.app).db, f"rev-{role}", role)
    return httpx.Client(base_url=world.server.url, headers={"Authorization": f"Bearer {token}"})


async def test_report_verified_attested_reviewed_and_sender_suspended(world: World) -> None:
    alice, bob, ids = await chat(world)
    receipt = await report_message(bob, ids[-1], ReasonCode.HARASSMENT, context=5)
    assert receipt.verified and {i.code for i in receipt.items} == {"valid"}
    assert len(receipt.items) == 4  # 3 from alice + bob's own reply (both directions)
    assert [i.chosen for i in receipt.items][-1] is True and receipt.case_id
    key = httpx.get(world.server.url + "/v1/reports/attestation-key").json()
    attestation = ReportAttestation.from_json(receipt.attestation)
    verify_attestation(attestation, {key["key_id"]: VerifyKey(b64d(key["public_key"]))})

    with _reviewer(world) as rev:
        cases = rev.get("/v1/review/cases").json()["cases"]
        assert [c["case_id"] for c in cases] == [receipt.case_id]
        detail = rev.get(f"/v1/review/cases/{receipt.case_id}").json()
        texts = [m["text"] for m in detail["messages"]]
        assert texts == ["hello bob", "hi alice", "second from alice", texts[-1]]
        assert "ABUSE-MARKER" in texts[-1]
        acted = rev.post(
            f"/v1/review/cases/{receipt.case_id}/actions", json={"action": "suspend_sender"}
        )
        assert acted.status_code == 200, acted.text
        assert acted.json()["actions"][0]["actor"] == "rev-senior"
        assert acted.json()["actions"][0]["action"] == "suspend_sender"
        escalated = rev.post(
            f"/v1/review/cases/{receipt.case_id}/actions", json={"action": "escalate"}
        ).json()
        assert escalated["clearinghouse_xml"].startswith("<?xml")
    with pytest.raises(ApiError) as refused:
        await alice.send_text("bob", "am I still here?")
    assert refused.value.status == 403


async def test_unreported_bodies_never_reach_the_db(world: World) -> None:
    alice, bob, ids = await chat(world)
    await alice.send_text("bob", "UNREPORTED-MARKER private")
    await bob.sync()
    await report_message(bob, ids[-1], ReasonCode.SPAM, context=0)
    db = relay_state(world.server.app).db
    with db.read() as session:
        items = session.scalars(select(ReportItem)).all()
    assert any(b"ABUSE-MARKER" in i.body for i in items)
    assert not any(b"UNREPORTED" in i.body for i in items)
    path = world.server.settings.data_dir / "fulcrum.db"
    raw = b"".join(p.read_bytes() for p in path.parent.glob("fulcrum.db*"))
    assert b"UNREPORTED-MARKER" not in raw and b"hello bob" not in raw


async def test_review_needs_a_reviewer_token(world: World) -> None:
    _, bob, _ = await chat(world)
    url = world.server.url + "/v1/review/cases"
    assert httpx.get(url).status_code == 401
    device = httpx.get(url, headers={"Authorization": f"Bearer {bob.transport.token}"})
    assert device.status_code == 401 and device.json()["error"]["code"] == "unauthorized"


async def test_message_without_commitment_is_refused(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    to_bob = {"account": "bob", "device_id": bob.core.device_id, "type": 0, "body": "b2xt"}
    body = {"msg_id": b64e(random_bytes(16)), "conv": "dm:alice:bob", "recipients": [to_bob]}
    r = httpx.post(
        world.server.url + "/v1/messages",
        json=body,
        headers={"Authorization": f"Bearer {alice.transport.token}"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "franking_required"


class ForgedCommitment(FrankingSendLayer):
    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        super().on_send(message, state)
        message.commitment = random_bytes(32)


class RandomKey(FrankingSendLayer):
    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        super().on_send(message, state)
        message.layers["franking"]["k_f"] = b64e(random_bytes(32))


class TamperedMeta(FrankingSendLayer):
    def on_send(self, message: OutgoingMessage, state: dict[str, Any]) -> None:
        super().on_send(message, state)
        message.layers["franking"]["meta"]["client_ts"] += 1


@pytest.mark.parametrize("layer", [ForgedCommitment, RandomKey, TamperedMeta])
async def test_recipient_hides_unverifiable_messages(world: World, layer: type) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    alice.install_layers([layer()], [FrankingReceiveLayer()])
    await alice.send_text("bob", "cannot be franked")
    [outcome] = await bob.sync()
    assert isinstance(outcome, Rejected) and outcome.reason == NOT_VERIFIED
    assert bob.core.layer_state["franking"]["failed"] == 1


def _with_message(report: AbuseReport, index: int, **bundle_changes: Any) -> AbuseReport:
    msgs = list(report.messages)
    bundle = dataclasses.replace(msgs[index].bundle, **bundle_changes)
    msgs[index] = dataclasses.replace(msgs[index], bundle=bundle)
    report_id = f"{report.report_id}-{len(bundle_changes)}-{sorted(bundle_changes)[0]}"
    return dataclasses.replace(report, messages=tuple(msgs), report_id=report_id)


async def test_report_attacks_get_per_message_verdicts(world: World) -> None:
    _, bob, ids = await chat(world)
    report = await build_report(bob, [ids[-1]], ReasonCode.HARASSMENT)
    last = len(report.messages) - 1
    moved = _with_message(report, last, tag=report.messages[0].bundle.tag)
    assert (await submit_report(bob, moved)).items[-1].code == "bad_tag"
    meta = dataclasses.replace(report.messages[last].bundle.meta, client_ts=1)
    tampered = _with_message(report, last, meta=meta)
    assert (await submit_report(bob, tampered)).items[-1].code == "bad_commitment"
    body = _with_message(report, last, body=b"something else entirely")
    assert (await submit_report(bob, body)).items[-1].code == "bad_commitment"

    msgs = list(report.messages)
    reordered = dataclasses.replace(
        report, report_id="reordered", messages=(msgs[0], msgs[2], msgs[1], *msgs[3:])
    )
    verdicts = await submit_report(bob, reordered)
    assert not verdicts.verified and "broken_prev_chain" in {i.code for i in verdicts.items}
    # leave out alice's middle message: her next message's prev no longer chains
    omitted = dataclasses.replace(report, report_id="omitted", messages=(*msgs[:2], *msgs[3:]))
    verdicts = await submit_report(bob, omitted)
    assert not verdicts.verified and "broken_prev_chain" in {i.code for i in verdicts.items}

    first = await submit_report(bob, report)
    assert first.verified
    with pytest.raises(ApiError) as dup:
        await submit_report(bob, dataclasses.replace(report, report_id="again"))
    assert dup.value.status == 409 and dup.value.code == "already_reported"


async def test_expired_tag_key(world: World) -> None:
    _, bob, ids = await chat(world)
    report = await build_report(bob, [ids[-1]], ReasonCode.SPAM)
    feature = franking_state(relay_state(world.server.app))
    later = datetime.now(UTC) + timedelta(days=31 * 14)
    feature.clock = lambda: later
    receipt = await submit_report(bob, report)
    assert not receipt.verified and receipt.items[-1].code == "expired_key"
    assert receipt.attestation is None
    with relay_state(world.server.app).db.read() as session:
        events = [e.event for e in session.scalars(select(FrankingKeyEvent))]
    assert "franking.key_rotated" in events and "franking.key_destroyed" in events


async def test_non_recipient_and_removed_member_are_refused(world: World) -> None:
    alice, bob, ids = await chat(world)
    dave = await world.user("dave")
    stolen = await build_report(bob, [ids[-1]], ReasonCode.HARASSMENT)
    forged = dataclasses.replace(
        stolen, reporter_account="dave", reporter_device=dave.core.device_id
    )
    with pytest.raises(ApiError) as refused:
        await submit_report(dave, forged)
    assert refused.value.status == 403 and refused.value.code == "not_a_recipient"

    carol = await world.user("carol")
    await alice.create_group("club", ["bob", "carol"])
    await alice.send_group("club", "welcome all")
    await bob.sync(), await carol.sync()
    await alice.change_members("club", remove=["carol"])
    await alice.send_group("club", "GROUP-ABUSE after carol left")
    [later] = [o for o in await bob.sync() if isinstance(o, ReceivedMessage)]
    handed = await build_report(bob, [later.msg_id], ReasonCode.HARASSMENT, context=0)
    as_carol = dataclasses.replace(
        handed, reporter_account="carol", reporter_device=carol.core.device_id
    )
    with pytest.raises(ApiError) as removed:
        await submit_report(carol, as_carol)
    assert removed.value.status == 403
    group_receipt = await submit_report(bob, handed)
    assert group_receipt.verified
