"""Demo step: a verifiable abuse report, platform verification and a reviewer's action."""

from __future__ import annotations

from fulcrum.client.core import ReceivedMessage
from fulcrum.client.franking_reports import report_message
from fulcrum.client.transport import ApiError, HttpTransport
from fulcrum.demo.runner import DemoWorld
from fulcrum.franking import ReasonCode
from fulcrum.server.franking.operators import create_reviewer
from fulcrum.server.state import relay_state
from fulcrum.wire.reports import CaseActionIn, CaseDetail, CaseList


async def step_franking_report(world: DemoWorld) -> None:
    dana = await world.user("dana")
    eve = await world.user("eve")
    await dana.send_text("eve", "hi, we met at the climbing wall")
    await world.received("eve")
    await eve.send_text("dana", "send me money or I post your photos")
    await eve.send_text("dana", "last warning")
    got = await world.received("dana")
    world.check(
        "dana's client verified the franking commitments of eve's messages",
        [m.text for m in got] == ["send me money or I post your photos", "last warning"],
    )
    target = next(m for m in got if isinstance(m, ReceivedMessage) and "money" in m.text)
    receipt = await report_message(dana, target.msg_id, ReasonCode.HARASSMENT, context=5)
    world.check(
        "the platform verified the report and its context (tag, commitment, chain)",
        receipt.verified and all(i.code == "valid" for i in receipt.items),
    )
    world.check("a verified report carries an Ed25519 attestation", receipt.attestation is not None)
    world.facts["report_messages_verified"] = len(receipt.items)

    db = relay_state(world.server.app).db
    token = create_reviewer(db, "rita", "senior")
    reviewer = HttpTransport(world.server.url, token)
    try:
        queue = await reviewer.call("GET", "/review/cases", CaseList)
        world.check(
            "the report is a case in the review queue",
            any(c.case_id == receipt.case_id for c in queue.cases),
        )
        detail = await reviewer.call("GET", f"/review/cases/{receipt.case_id}", CaseDetail)
        world.check(
            "the reviewer sees only the reported messages",
            {m.msg_id for m in detail.messages} == {i.msg_id for i in receipt.items},
        )
        acted = await reviewer.call(
            "POST",
            f"/review/cases/{receipt.case_id}/actions",
            CaseDetail,
            body=CaseActionIn.model_validate({"action": "suspend_sender", "note": "extortion"}),
        )
        world.check("the action is recorded with who and when", any(a.actor for a in acted.actions))
    finally:
        await reviewer.aclose()
    try:
        await eve.send_text("dana", "are you there?")
        refused = False
    except ApiError as exc:
        refused = exc.status == 403
    world.check("the suspended sender can no longer send", refused)
