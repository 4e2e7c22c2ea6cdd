"""Regenerate tests/vectors/envelope-v2.json: the envelope encodings, version 2.

Every key, nonce and message id is derived from a fixed seed (SHA-256 of a label), so the file is
reproducible byte for byte. The test suite (tests/unit/e2ee/test_envelope_vectors.py) recomputes
every value from the inputs and fails on drift; a change to an encoding shows as a diff here.
Run: python scripts/gen_envelope_vectors.py [--check]

tests/vectors/envelope-v1.json (the JSON ratchet payload of version 1) is frozen: version 1 is
still decoded but no longer produced, so this script does not rewrite it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from fulcrum.e2ee import MessageHeader, pack_body, seal_attachment, seal_body
from fulcrum.e2ee.content import AttachmentKey
from fulcrum.e2ee.payload import encode_payload
from fulcrum.encoding import b64e

OUT = Path(__file__).resolve().parent.parent / "tests" / "vectors" / "envelope-v2.json"
SEED = b"fulcrum envelope-v2 vectors"


def seeded(label: str, n: int) -> bytes:
    """``n`` bytes (n <= 32) fixed by ``label``."""
    return hashlib.sha256(SEED + b"/" + label.encode()).digest()[:n]


def _headers() -> tuple[MessageHeader, MessageHeader]:
    dm = MessageHeader(
        conv="dm:alice:bob",
        sender="alice",
        sender_device="ALICEPHONE",
        recipients=("alice/ALICELAPTOP", "bob/BOBPHONE"),
        msg_id=b64e(seeded("msg_id/dm", 16)),
        client_ts=1_764_158_400_000,
        content_type="text/plain",
    )
    group = MessageHeader(
        conv="group:book-club",
        sender="alice",
        sender_device="ALICEPHONE",
        recipients=("bob/BOBPHONE", "carol/CAROLPHONE", "dora/DORATABLET"),
        msg_id=b64e(seeded("msg_id/group", 16)),
        client_ts=1_764_158_460_000,
        content_type="text/plain; charset=utf-8",
        group_id="book-club",
        membership_epoch=2,
    )
    return dm, group


def _attachment() -> tuple[AttachmentKey, dict[str, str]]:
    k_att, nonce = seeded("k_att", 32), seeded("att_nonce", 12)
    data = b"attachment bytes\n" * 4
    sealed = seal_attachment(data, k_att, nonce)
    key = AttachmentKey(
        "att-1",
        k_att,
        nonce,
        sealed.key_commit,
        sealed.sha256_plain,
        sealed.size,
        "text/plain",
        "nötes.txt",
    )
    return key, {
        "k_att": k_att.hex(),
        "nonce": nonce.hex(),
        "plaintext": data.hex(),
        "ciphertext": sealed.ciphertext.hex(),
        "key_commit": sealed.key_commit.hex(),
        "sha256_plain": sealed.sha256_plain.hex(),
    }


def _rejects(good: bytes, group: bytes) -> list[dict[str, str]]:
    """Payloads the decoder must refuse, each with the reason it exists."""
    k_m = seeded("k_m", 32)
    unsorted = MessageHeader("c", "s", "d", ("b/B", "a/A"), "m", 1, "t")
    bad = [
        (b"", "empty"),
        (b"\x03" + good[1:], "unknown version byte"),
        (b"\x00" + good[1:], "version byte 0"),
        (good[:-1], "truncated by one byte"),
        (good[:40], "truncated inside a length-prefixed field"),
        (good + b"\x00", "one trailing byte"),
        (good[:-4] + b"\x00\x00\x00\x02{}", "layers present but an empty object"),
        (good[:-4] + b"\x00\x00\x00\x02[]", "layers not a JSON object"),
        (good[:-4] + b"\x00\x00\x00\x01{", "layers not JSON"),
        (_replace_flag(good, b"\x02"), "group flag neither 0 nor 1"),
        (
            _unsorted_payload(unsorted, k_m),
            "recipients not in ascending order",
        ),
        (_with_client_ts(good, 2**53), "client_ts above 2^53 - 1"),
        (_with_conv(good, b"\xff\xfe"), "string not UTF-8"),
        (_with_conv(good, b"\xed\xa0\x80"), "string holds a UTF-8-encoded surrogate"),
        (group[:-6], "group payload truncated inside the layers"),
    ]
    return [{"encoded": data.hex(), "why": why} for data, why in bad]


def _with_conv(payload: bytes, conv: bytes) -> bytes:
    end = _after_strings(payload, 33, 1)
    return payload[:33] + len(conv).to_bytes(4, "big") + conv + payload[end:]


def _after_strings(payload: bytes, start: int, count: int) -> int:
    pos = start
    for _ in range(count):
        pos += 4 + int.from_bytes(payload[pos : pos + 4], "big")
    return pos


def _with_client_ts(payload: bytes, value: int) -> bytes:
    pos = _after_strings(payload, 33, 4)  # conv, sender, sender_device, msg_id
    return payload[:pos] + value.to_bytes(8, "big") + payload[pos + 8 :]


def _replace_flag(payload: bytes, flag: bytes) -> bytes:
    pos = _after_strings(payload, 33, 4) + 8
    pos = _after_strings(payload, pos, 1)  # content_type
    count = int.from_bytes(payload[pos : pos + 4], "big")
    pos = _after_strings(payload, pos + 4, count)
    return payload[:pos] + flag + payload[pos + 1 :]


def _unsorted_payload(header: MessageHeader, k_m: bytes) -> bytes:
    """Encode a header whose recipients are out of order (the encoder refuses to)."""
    ordered = MessageHeader(
        header.conv,
        header.sender,
        header.sender_device,
        tuple(sorted(header.recipients)),
        header.msg_id,
        header.client_ts,
        header.content_type,
    )
    good = encode_payload(ordered, k_m)
    in_order = b"\x00\x00\x00\x03a/A\x00\x00\x00\x03b/B"
    assert good.count(in_order) == 1
    return good.replace(in_order, b"\x00\x00\x00\x03b/B\x00\x00\x00\x03a/A")


def vectors() -> dict[str, Any]:
    dm, group = _headers()
    k_m, nonce = seeded("k_m", 32), seeded("body_nonce", 12)
    text = "Hi Bob, lunch on Friday? — ünïcødé ok".encode()
    key, attachment = _attachment()
    packed = pack_body(text, (key,))
    layers = {"franking": {"k_f": b64e(seeded("k_f", 32)), "meta": "{}"}}
    dm_payload = encode_payload(dm, k_m)
    group_payload = encode_payload(group, k_m, (key,), layers)
    return {
        "source": "Fulcrum envelope v2 (docs/protocol.md); generated from fixed seeds by "
        "scripts/gen_envelope_vectors.py",
        "body": [
            {
                "header": h.to_json(),
                "canonical_header": h.canonical().decode(),
                "k_m": k_m.hex(),
                "nonce": nonce.hex(),
                "body": text.hex(),
                "sealed": seal_body(k_m, h.canonical(), text, nonce).hex(),
            }
            for h in (dm, group)
        ],
        "attachment": attachment,
        "packed_body": {
            "text": text.hex(),
            "attachment_keys": [key.to_json()],
            "packed": packed.hex(),
            "sealed": seal_body(k_m, dm.canonical(), packed, nonce).hex(),
        },
        "payload": [
            {
                "header": dm.to_json(),
                "k_m": k_m.hex(),
                "attachment_keys": [],
                "layers": {},
                "encoded": dm_payload.hex(),
            },
            {
                "header": group.to_json(),
                "k_m": k_m.hex(),
                "attachment_keys": [key.to_json()],
                "layers": layers,
                "encoded": group_payload.hex(),
            },
        ],
        "payload_rejects": _rejects(dm_payload, group_payload),
    }


def render() -> str:
    return json.dumps(vectors(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the file would change")
    args = parser.parse_args()
    text = render()
    if args.check:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date: run python scripts/gen_envelope_vectors.py")
            return 1
        print(f"{OUT} is up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
