"""Regenerate vectors/franking-v1.json: ``python -m tests.unit.franking.make_vectors``.

Fixed inputs in, every franking encoding and MAC out. test_vectors.py recomputes and compares, so
any change to an encoding, label or construction shows up as drift.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fulcrum.franking import (
    AbuseReport,
    AttachmentRef,
    FrankingBundle,
    FrankingMeta,
    GroupAudience,
    ReasonCode,
    ReportedMessage,
    ServerEnvelope,
    TagKey,
    TagKeyring,
    attest_report,
    commit,
    members_hash,
    tag,
    verify_report,
)
from fulcrum.hazmat.signing import SigningKey

PATH = Path(__file__).parent / "vectors" / "franking-v1.json"
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def compute() -> dict[str, Any]:
    k_f = bytes(range(32))
    tag_secret = bytes(range(32, 64))
    meta = FrankingMeta(
        sender="alice",
        sender_device="alice-phone",
        conv="dm:alice:bob",
        msg_id=bytes.fromhex("00112233445566778899aabbccddeeff"),
        client_ts=1793707200000,
        content_type="text/plain",
        prev=bytes(32),
        attachments=(AttachmentRef(b"\x11" * 32, 1234, "image/png", b"\x22" * 32),),
        reply_to=b"\x33" * 16,
        forward_count=1,
    )
    body = "héllo, bob".encode()
    c = commit(k_f, meta, body)
    env = ServerEnvelope(
        sender="alice",
        sender_device="alice-phone",
        conv="dm:alice:bob",
        msg_id=meta.msg_id,
        server_ts=1793707201000,
        ct_sha256=b"\x44" * 32,
        recipients=("bob",),
    )
    ring = TagKeyring((TagKey("2026-11", tag_secret, NOW),))
    kid, t = tag(ring, c, env, NOW)
    bundle = FrankingBundle(body, meta, k_f, c, env, kid, t)
    group_env = ServerEnvelope(
        "alice",
        "alice-phone",
        "group:g1",
        meta.msg_id,
        1793707201000,
        b"\x44" * 32,
        group=GroupAudience.of("g1", 7, ["carol", "alice", "bob"]),
    )
    plain_meta = dataclasses.replace(meta, attachments=())  # reports need no attachment openings
    c2 = commit(k_f, plain_meta, body)
    kid2, t2 = tag(ring, c2, env, NOW)
    plain = FrankingBundle(body, plain_meta, k_f, c2, env, kid2, t2)
    rep = AbuseReport(
        "rep-1",
        "bob",
        "bob-laptop",
        ReasonCode.HARASSMENT,
        False,
        (meta.msg_id,),
        (ReportedMessage(plain),),
    )
    att = attest_report(rep, verify_report(rep, ring, NOW), SigningKey(bytes(32)), NOW)
    return {
        "inputs": {
            "k_f": k_f.hex(),
            "tag_key": tag_secret.hex(),
            "body": body.hex(),
            "attest_seed": bytes(32).hex(),
            "now_ms": 1793707200000,
        },
        "meta_canonical": meta.canonical().decode(),
        "commitment": c.hex(),
        "env_canonical": env.canonical().decode(),
        "kid": kid,
        "tag": t.hex(),
        "bundle": bundle.encode().decode(),
        "members_hash_alice_bob_carol": members_hash(["carol", "alice", "bob"]).hex(),
        "group_env_canonical": group_env.canonical().decode(),
        "attestation": att.encode().decode(),
    }


def main() -> None:
    PATH.write_text(json.dumps(compute(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
