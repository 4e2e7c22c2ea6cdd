"""The warrant workflow end to end over HTTP: retention, trustees, requests, evidence, notice."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.integration.access.conftest import JUDGE, JUDGE_KEY_ID, Desk
from tests.integration.client.conftest import World

from fulcrum.access import LoggedRequest, RequestRefused, answer_request, sign_extension
from fulcrum.access.request import DecryptionRequest
from fulcrum.client.core import ReceivedMessage
from fulcrum.encoding import b64d, b64e
from fulcrum.evidence import TrustedKeys, verify_bundle
from fulcrum.hazmat.signing import SigningKey, VerifyKey
from fulcrum.server.access.export import notify_due
from fulcrum.server.access.retention import purge_retained
from fulcrum.store.access import AccessRetained, AccessRetainedAttachment
from fulcrum.translog import (
    CosignatureVerifier,
    check_entries,
    parse_entry,
    verifier_from_vkey,
)

pytestmark = pytest.mark.integration
PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)


def trusted_keys(desk: Desk) -> TrustedKeys:
    keys = httpx.get(f"{desk.server.url}/v1/log/keys").json()
    exporter = b64d(httpx.get(f"{desk.server.url}/v1/access/keys").json()["exporter"])
    return TrustedKeys((VerifyKey(exporter),), verifier_from_vkey(keys["log_vkey"]),
                       tuple(CosignatureVerifier.from_vkey(v) for v in keys["witness_vkeys"]),
                       keys["min_witnesses"])  # fmt: skip


async def scene(world: World, tmp_path: Path) -> dict[str, object]:
    """Messages before a warrant (out of window), of others (out of scope)."""
    alice, bob, carol = [await world.user(n) for n in ("alice", "bob", "carol")]
    alice.clock = lambda: time.time() - 120  # before the window opens
    await alice.send_text("bob", "before the window")
    alice.clock = time.time
    await bob.send_text("carol", "bob to carol, no target")
    return {"alice": alice, "bob": bob, "carol": carol}


async def test_full_flow_decrypts_exactly_the_scope(
    world: World, desk: Desk, tmp_path: Path
) -> None:
    people = await scene(world, tmp_path)
    alice, bob = people["alice"], people["bob"]
    signed = desk.warrant(["alice"])
    wid = signed.warrant.warrant_id
    status = desk.activate(signed)
    assert status["stage"] == "approved"
    pic = tmp_path / "pic.png"
    pic.write_bytes(PNG)
    await alice.send_text("bob", "in scope from alice", [pic])  # type: ignore[attr-defined]
    await bob.send_text("alice", "in scope to alice")  # type: ignore[attr-defined]
    await bob.send_text("carol", "still out of scope")  # type: ignore[attr-defined]
    await alice.create_group("club", ["bob"])  # type: ignore[attr-defined]
    await alice.send_group("club", "group message in scope")  # type: ignore[attr-defined]
    got = [o.text for o in await bob.sync() if isinstance(o, ReceivedMessage)]  # type: ignore[attr-defined]
    assert "in scope from alice" in got and "group message in scope" in got

    r = desk.call("authority", "POST", f"/warrants/{wid}/requests", json={})
    assert r.status_code == 200, r.text
    [request_id] = r.json()["request_ids"]
    r = desk.call("operator", "POST", f"/requests/{request_id}/partials", json={})
    assert r.status_code == 200, r.text
    r = desk.call("authority", "POST", f"/requests/{request_id}/complete")
    assert r.status_code == 200, r.text
    r = desk.call(
        "authority", "POST", f"/warrants/{wid}/export", json={"recipient": "police-a/unit-7"}
    )
    assert r.status_code == 200, r.text
    export = r.json()
    assert export["decrypted"] == export["messages"] == 3
    zipped = desk.call("authority", "GET", export["download"].removeprefix("/v1/access"))
    assert zipped.status_code == 200
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(zipped.content)
    report = verify_bundle(bundle, trusted_keys(desk))
    assert report.ok, report.failures
    assert any(p.startswith("EpochKey inclusion") for p in report.passed)
    with zipfile.ZipFile(bundle) as zf:
        records = json.loads(zf.read("messages.json"))["messages"]
        html = zf.read("transcript.html").decode()
        names = zf.namelist()
    bodies = sorted(m["body"] for m in records)
    assert bodies == ["group message in scope", "in scope from alice", "in scope to alice"]
    assert "before the window" not in html and "carol" not in html
    [with_pic] = [m for m in records if m["attachments"]]
    assert f"attachments/{with_pic['attachments'][0]['sha256']}" in names

    status = desk.call("judge", "GET", f"/warrants/{wid}").json()
    steps = [s["step"] for s in status["steps"]]
    assert steps == ["WarrantRegistered", *["TrusteeApproval"] * 5, "DecryptionRequested",
                     *["PartialsIssued"] * 5, "AccessCompleted", "EvidenceExported"]  # fmt: skip
    entries = desk.service.entries()
    assert check_entries(list(enumerate(entries))) == []
    registered = next(e for e in entries if e.TYPE == "WarrantRegistered")
    assert b"alice" not in registered.encode()
    assert (registered.agency, registered.target_count) == ("police-a", 1)  # type: ignore[attr-defined]


async def test_out_of_scope_and_unlogged_requests_never_decrypt(
    world: World, desk: Desk, tmp_path: Path
) -> None:
    people = await scene(world, tmp_path)
    signed = desk.warrant(["alice"])
    desk.activate(signed)
    await people["alice"].send_text("bob", "in scope")  # type: ignore[attr-defined]
    service = desk.service
    with service.db.read() as s:
        rows = {r.conv + r.msg_id: r for r in s.query(AccessRetained)}
        for r in rows.values():
            s.expunge(r)
    # the platform selects only the in-scope message
    selected = service.in_scope(service.opening(signed.warrant.warrant_id))
    assert [r.sender_account for r in selected] == ["alice"]
    outside = [r for r in rows.values() if r.id != selected[0].id]
    assert {r.sender_account for r in outside} == {"alice", "bob"}  # before window; bob->carol
    # a platform that asks anyway: logged, cosigned, but the trustees refuse every such item
    items = tuple(c.item for c in service.candidates(outside) if c.item is not None)
    epoch = items[0].ctx.epoch
    request = DecryptionRequest(signed.warrant.warrant_id, "req-sneaky", epoch, items)
    index = service.log.append(request.to_log_entry(int(time.time())))

    def logged_at(size_ok: bool) -> LoggedRequest:
        cp = service.log.checkpoint() if size_ok else service.log.latest()
        assert cp is not None
        note = cp.note if size_ok else cp.note + "".join(cp.cosignatures).encode()  # type: ignore[union-attr]
        size = cp.size
        proof = service.log.inclusion_proof(index, size)[1] if index < size else []
        return LoggedRequest(service.log.entries(index, index + 1)[0], index, tuple(proof), note)

    council = service.council
    assert council is not None
    record = council.record(epoch)
    assert record is not None
    before = logged_at(size_ok=False)  # not yet in any cosigned checkpoint
    with pytest.raises(RequestRefused, match="witness-cosigned checkpoint"):
        answer_request(request, service.opening(signed.warrant.warrant_id), before, service.trust(),
                       council.stores[0].share(epoch), record.bundle.group_key,
                       log_entries=service.entries(), now=int(time.time()))  # fmt: skip
    with pytest.raises(RequestRefused) as refused:
        answer_request(request, service.opening(signed.warrant.warrant_id), logged_at(True),
                       service.trust(), council.stores[0].share(epoch), record.bundle.group_key,
                       log_entries=service.entries(), now=int(time.time()))  # fmt: skip
    reasons = " ".join(refused.value.reasons)
    assert "no target is the sender or a recipient" in reasons
    assert "outside the warrant's window" in reasons


async def test_request_before_checkpoint_and_t_minus_1_and_destroyed_shares(
    world: World, desk: Desk, tmp_path: Path
) -> None:
    alice, _ = await world.user("alice"), await world.user("bob")
    signed = desk.warrant(["alice"])
    wid = signed.warrant.warrant_id
    desk.activate(signed)
    await alice.send_text("bob", "one")
    r = desk.call("authority", "POST", f"/warrants/{wid}/requests", json={"checkpoint": False})
    [rid] = r.json()["request_ids"]
    r = desk.call("operator", "POST", f"/requests/{rid}/partials", json={})
    assert r.status_code == 409 and "cosigned checkpoint" in r.json()["error"]["message"]
    desk.service.log.checkpoint()
    r = desk.call("operator", "POST", f"/requests/{rid}/partials",
                  json={"trustees": ["trustee-1", "trustee-2"]})  # fmt: skip
    assert r.status_code == 409  # t - 1 = 2 partials
    r = desk.call("authority", "POST", f"/requests/{rid}/complete")
    assert r.status_code == 409 and r.json()["error"]["code"] == "cannot_combine"
    council = desk.service.council
    assert council is not None
    council.destroy(council.current().bundle.epoch)
    r = desk.call("operator", "POST", f"/requests/{rid}/partials", json={})
    assert r.status_code == 409  # no trustee holds a share any more
    assert "destroyed" in r.json()["error"]["message"]


async def test_overbroad_quota_and_forged_warrants_refused(world: World, desk: Desk) -> None:
    alice = await world.user("alice")
    await world.user("bob")
    forged = desk.warrant(["alice"], serial="forged")
    forged = type(forged)(forged.warrant, SigningKey(bytes(32)).sign(b"x"))
    r = desk.submit(forged)
    assert r.status_code == 403 and r.json()["error"]["code"] == "judge_signature"
    broad = desk.warrant(["alice", "bob", "carol", "dave"], serial="broad")
    status = desk.activate(broad)
    assert status["stage"] == "denied"
    assert all("denied too-many-targets" in s["detail"] for s in status["steps"][1:])
    r = desk.call("authority", "POST", f"/warrants/{broad.warrant.warrant_id}/requests", json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_approved"
    small = desk.warrant(["alice"], serial="small", max_messages=2)
    desk.activate(small)
    await alice.send_text("bob", "a")
    await alice.send_text("bob", "b")
    await alice.send_text("bob", "c")
    sid = small.warrant.warrant_id
    r = desk.call("authority", "POST", f"/warrants/{sid}/requests", json={})
    [rid] = r.json()["request_ids"]  # capped at max_messages = 2 of the 3 in scope
    assert r.json()["status"]["withheld"] == 1
    assert r.json()["status"]["notes"] == [
        "1 further messages in scope not requested: warrant limit"
    ]
    assert len(desk.service.load_request(rid)[1].items) == 2
    r = desk.call("operator", "POST", f"/requests/{rid}/partials", json={})
    assert r.status_code == 200, r.text  # the trustees accept a request within the quota
    again = desk.call("authority", "POST", f"/warrants/{sid}/requests", json={})
    assert again.json()["request_ids"] == []  # the allowance is spent
    assert desk.call("authority", "POST", f"/requests/{rid}/complete").status_code == 200
    export = desk.call("authority", "POST", f"/warrants/{sid}/export", json={"recipient": "x"})
    zipped = desk.call("authority", "GET", export.json()["download"].removeprefix("/v1/access"))
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as zf:
        doc = json.loads(zf.read("messages.json"))
        html = zf.read("transcript.html").decode()
    note = "1 further messages in scope not requested: warrant limit"
    assert doc["notes"] == [note] and note in html
    failures = [m["failure"] for m in doc["messages"] if m["status"] != "decrypted"]
    assert failures == ["not requested: warrant limit"]


async def test_modified_bundle_byte_is_caught(world: World, desk: Desk, tmp_path: Path) -> None:
    alice = await world.user("alice")
    await world.user("bob")
    signed = desk.warrant(["alice"])
    wid = signed.warrant.warrant_id
    desk.activate(signed)
    await alice.send_text("bob", "evidence")
    [rid] = desk.call("authority", "POST", f"/warrants/{wid}/requests", json={}).json()[
        "request_ids"
    ]
    desk.call("operator", "POST", f"/requests/{rid}/partials", json={})
    desk.call("authority", "POST", f"/requests/{rid}/complete")
    export = desk.call(
        "authority", "POST", f"/warrants/{wid}/export", json={"recipient": "x"}
    ).json()
    data = desk.call("authority", "GET", export["download"].removeprefix("/v1/access")).content
    keys = trusted_keys(desk)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    for name in ("messages.json", "transcript.html", "provenance/partials.json"):
        changed = dict(files)
        blob = bytearray(changed[name])
        blob[len(blob) // 2] ^= 1
        changed[name] = bytes(blob)
        path = tmp_path / f"bad-{name.replace('/', '_')}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for n, b in changed.items():
                zf.writestr(n, b)
        report = verify_bundle(path, keys)
        assert not report.ok and any(f.file == name for f in report.failures)


async def test_notification_at_notify_after_unless_logged_extension(
    world: World, desk: Desk
) -> None:
    alice = await world.user("alice")
    first = desk.warrant(["alice"], serial="n1")
    second = desk.warrant(["alice"], serial="n2")
    desk.activate(first)
    desk.activate(second)
    w2 = second.warrant
    ext = sign_extension(w2, delayed_until=w2.notify_after + 30 * 86_400, reason="ongoing",
                         judge_key_id=JUDGE_KEY_ID, issued_at=int(time.time()),
                         key=JUDGE)  # fmt: skip
    r = desk.call("judge", "POST", f"/warrants/{w2.warrant_id}/extensions",
                  json={"extension": b64e(ext.to_bytes())})  # fmt: skip
    assert r.status_code == 200, r.text
    forged = sign_extension(w2, delayed_until=w2.notify_after + 60 * 86_400, reason="x",
                            judge_key_id=JUDGE_KEY_ID, issued_at=int(time.time()),
                            key=SigningKey(bytes(32)))  # fmt: skip
    r = desk.call("judge", "POST", f"/warrants/{w2.warrant_id}/extensions",
                  json={"extension": b64e(forged.to_bytes())})  # fmt: skip
    assert r.status_code == 403
    service = desk.service
    assert notify_due(service, now=first.warrant.notify_after - 1) == []
    assert notify_due(service, now=first.warrant.notify_after) == [first.warrant.warrant_id]
    assert notify_due(service, now=w2.notify_after + 1) == []  # delayed by the logged extension
    assert notify_due(service, now=ext.delayed_until) == [w2.warrant_id]
    page = await alice.transport.queue(after=0, limit=100)
    notices = [i for i in page.items if i.kind == "notice"]
    assert len(notices) == 2
    types = [parse_entry(e).TYPE for e in service.log.entries(0, service.log.size())]
    assert types.count("WarrantUnsealed") == 2 and types.count("NotificationDelayed") == 1


async def test_retention_window_purge_and_clock_skew(
    world: World, desk: Desk, tmp_path: Path
) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    pic = tmp_path / "pic.png"
    pic.write_bytes(PNG)
    await bob.send_text("alice", "kept for the retrospective window only", [pic])  # type: ignore[attr-defined]
    service = desk.service

    def retained_attachments() -> int:
        with service.db.read() as s:
            return len(list(s.scalars(select(AccessRetainedAttachment))))

    assert retained_attachments() == 1
    now_ms = int(time.time() * 1000)
    assert purge_retained(service.db, now_ms=now_ms, retrospective_seconds=3600) == 0
    assert retained_attachments() == 1
    assert purge_retained(service.db, now_ms=now_ms + 3_601_000, retrospective_seconds=3600) == 1
    assert retained_attachments() == 0  # the ciphertext goes with its window record
    alice.clock = lambda: time.time() + 3600  # an hour ahead: the relay refuses
    with pytest.raises(Exception, match=r"client_clock_skew|clock"):
        await alice.send_text("bob", "from the future")


class LyingClock:
    """A modified sender whose clear extensions.escrow.client_ts differs from its header's."""

    name = "lying-clock"

    def on_send(self, message: Any, state: dict[str, Any]) -> None:
        message.extensions["escrow"] = {**message.extensions["escrow"],
                                        "client_ts": message.header.client_ts + 1000}  # fmt: skip


async def test_recipients_hide_a_message_whose_clear_escrow_values_lie(world: World) -> None:
    from fulcrum.client.escrow_layer import NOT_VERIFIED
    from fulcrum.client.standard import standard_layers

    alice, bob = await world.user("alice"), await world.user("bob")
    layers = standard_layers()
    alice.install_layers([*layers.send, LyingClock()], layers.receive)
    await alice.send_text("bob", "ctx the platform could not rebuild")
    alice.use_layers(standard_layers())
    await alice.send_text("bob", "honest")
    outcomes = await bob.sync()
    assert [o.text for o in outcomes if isinstance(o, ReceivedMessage)] == ["honest"]
    assert [getattr(o, "reason", None) for o in outcomes if not isinstance(o, ReceivedMessage)] == [
        NOT_VERIFIED
    ]
