"""Demo step: a judge-signed warrant for alice's messages, trustees, partials, an evidence bundle.

Everything goes through the server's ``access`` role with operator tokens: an operator logs the
judge's key, the judge submits the signed warrant, the five in-process trustees decide on their
own, then alice and bob talk (retention is prospective: only from activation). Carol's chat with
bob, and a message alice sent with a clock before the window, are not decrypted. The authority
requests, the trustees answer a request that is in a witness-cosigned checkpoint, and the bundle is
written to ``<out>/evidence/<case>/`` (open ``transcript.html``) and verified offline.
"""

from __future__ import annotations

import asyncio
import json
import time
import zipfile
from typing import Any

import httpx

from fulcrum.access import Warrant, sign_warrant
from fulcrum.demo.runner import DemoWorld, demo_image
from fulcrum.encoding import b64d, b64e
from fulcrum.evidence import TrustedKeys, verify_bundle
from fulcrum.hazmat.signing import SigningKey, VerifyKey
from fulcrum.server.access.operators import create_operator
from fulcrum.translog import CosignatureVerifier, parse_entry, verifier_from_vkey

DAY = 86_400


async def step_warrant(world: DemoWorld) -> None:
    url = world.server.url
    db = world.server.app.state.fulcrum.db
    tokens = {r: create_operator(db, f"demo-{r}", r) for r in ("judge", "authority", "operator")}

    async def call(who: str, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        async with httpx.AsyncClient(timeout=120) as http:
            return await http.request(method, f"{url}/v1/access{path}", json=body, headers=headers)

    judge = SigningKey.generate()
    now = int(time.time())
    r = await call("operator", "POST", "/judge-keys", {
        "judge_key_id": "xa-judge-7", "court": "XA district court",
        "public_key": b64e(judge.public_key().raw), "valid_from": now - DAY,
        "valid_until": now + 365 * DAY})  # fmt: skip
    world.check("an operator logs the judge's key (JudgeKeyRegistered)", r.status_code == 200)
    warrant = Warrant.create(
        warrant_id="XA:police-a:demo-1", agency="police-a", jurisdiction="XA",
        legal_basis="Criminal Procedure Code s. 100a (demo)", targets=["alice"],
        window_start=now, window_end=now + 7 * DAY, issued_at=now, judge_key_id="xa-judge-7",
        max_messages=100,
    )  # fmt: skip
    signed = sign_warrant(warrant, judge)
    wid = warrant.warrant_id
    r = await call("judge", "POST", "/warrants", {"signed_warrant": b64e(signed.to_bytes())})
    world.check("the judge submits the signed warrant (WarrantRegistered)", r.status_code == 200)
    r = await call("operator", "POST", f"/warrants/{wid}/approvals")
    world.check("the 5 trustees each approve it independently", r.json().get("stage") == "approved")

    alice, bob, carol = (world.clients[n] for n in ("alice", "bob", "carol"))
    picture = world.out / "warrant-photo.png"
    picture.write_bytes(demo_image(7))
    await alice.send_text("bob", "Meet at the usual place at 9, bring the documents", [picture])
    await bob.send_text("alice", "OK, 9 it is")
    await carol.send_text("bob", "Carol to Bob: not covered by the warrant")
    alice.clock = lambda: time.time() - 120  # a message claiming a time before the window
    await alice.send_text("bob", "Sent (by my clock) before the window opened")
    alice.clock = time.time
    for name in ("alice", "bob", "carol", "bob-laptop"):
        await world.sync(name)

    r = await call("authority", "POST", f"/warrants/{wid}/requests", {"checkpoint": True})
    request_ids = r.json()["request_ids"]
    world.check("the authority's request is logged and cosigned (DecryptionRequested)",
                r.status_code == 200 and len(request_ids) == 1)  # fmt: skip
    for rid in request_ids:
        p = await call("operator", "POST", f"/requests/{rid}/partials", {})
        world.check(
            "trustees answer only the cosigned request (PartialsIssued)", p.status_code == 200
        )
        c = await call("authority", "POST", f"/requests/{rid}/complete")
        world.check(
            "t partials combine and the bodies open (AccessCompleted)", c.status_code == 200
        )
    r = await call("authority", "POST", f"/warrants/{wid}/export", {"recipient": "police-a/unit-7"})
    export = r.json()
    zipped = await call("authority", "GET", export["download"].removeprefix("/v1/access"))
    folder = world.out / "evidence" / export["case_id"]
    folder.mkdir(parents=True, exist_ok=True)
    zip_path = folder.with_suffix(".zip")
    zip_path.write_bytes(zipped.content)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(folder)
    records = json.loads((folder / "messages.json").read_bytes())["messages"]
    bodies = sorted(m["body"] for m in records if m["status"] == "decrypted")
    world.check(
        "exactly alice's two in-window messages decrypt, with the photo",
        bodies == ["Meet at the usual place at 9, bring the documents", "OK, 9 it is"]
        and any(a["content_type"] == "image/png" for m in records for a in m["attachments"]),
    )
    text = (folder / "transcript.html").read_text()
    world.check(
        "carol's chat and the message from before the window are not decrypted",
        "Carol to Bob" not in text and "before the window" not in text,
    )

    async with httpx.AsyncClient(timeout=30) as http:
        keys = (await http.get(f"{url}/v1/log/keys")).json()
        exporter = (await http.get(f"{url}/v1/access/keys")).json()["exporter"]
    trusted = TrustedKeys((VerifyKey(b64d(exporter)),), verifier_from_vkey(keys["log_vkey"]),
                          tuple(CosignatureVerifier.from_vkey(v) for v in keys["witness_vkeys"]),
                          keys["min_witnesses"])  # fmt: skip
    report = await asyncio.to_thread(verify_bundle, zip_path, trusted)
    world.check(f"the offline verifier passes ({len(report.passed)} checks)", report.ok)

    status = (await call("judge", "GET", f"/warrants/{wid}")).json()
    steps = [f"{s['log_index']}:{s['step']}" for s in status["steps"]]
    log = world.server.app.state.fulcrum.features["translog"]
    logged = {i: parse_entry(e).TYPE for i, e in enumerate(log.entries(0, log.size()))}
    world.check(
        "the public log shows every step, in order",
        all(logged[int(s.split(":")[0])] == s.split(":")[1] for s in steps)
        and [s.split(":")[1] for s in steps][-2:] == ["AccessCompleted", "EvidenceExported"],
    )
    world.facts["warrant_log"] = ", ".join(steps)
    world.facts["evidence_bundle"] = str(folder / "transcript.html")
