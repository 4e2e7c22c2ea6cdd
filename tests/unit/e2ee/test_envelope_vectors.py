"""The published envelope vectors (tests/vectors/envelope-v1.json) still hold."""

import json
from pathlib import Path

import pytest

from fulcrum.e2ee import DecryptionFailed, MessageHeader, RatchetPayload, open_body, seal_body
from fulcrum.e2ee.content import AttachmentKey, open_attachment, seal_attachment

pytestmark = pytest.mark.unit

VECTORS = json.loads(
    (Path(__file__).parents[2] / "vectors" / "envelope-v1.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", VECTORS["body"])
def test_body_vectors(case: dict[str, object]) -> None:
    header = MessageHeader.from_json(case["header"])  # type: ignore[arg-type]
    assert header.canonical().decode() == case["canonical_header"]
    k_m, nonce = bytes.fromhex(str(case["k_m"])), bytes.fromhex(str(case["nonce"]))
    body, sealed = bytes.fromhex(str(case["body"])), bytes.fromhex(str(case["sealed"]))
    assert seal_body(k_m, header.canonical(), body, nonce) == sealed
    assert open_body(k_m, header.canonical(), sealed) == body
    with pytest.raises(DecryptionFailed):
        open_body(k_m, header.canonical() + b" ", sealed)


def test_attachment_vector() -> None:
    v = VECTORS["attachment"]
    data = bytes.fromhex(v["plaintext"])
    sealed = seal_attachment(data, bytes.fromhex(v["k_att"]), bytes.fromhex(v["nonce"]))
    assert sealed.ciphertext.hex() == v["ciphertext"]
    assert sealed.key_commit.hex() == v["key_commit"]
    assert sealed.sha256_plain.hex() == v["sha256_plain"]
    key = AttachmentKey(
        "a",
        sealed.k_att,
        sealed.nonce,
        sealed.key_commit,
        sealed.sha256_plain,
        sealed.size,
        "text/plain",
        "n",
    )
    assert open_attachment(key, sealed.ciphertext) == data


def test_payload_vector_decodes_and_reencodes() -> None:
    encoded = VECTORS["payload"]["encoded"].encode()
    payload = RatchetPayload.decode(encoded)
    assert payload.encode() == encoded


def test_packed_body_vector_carries_attachment_keys() -> None:
    from fulcrum.e2ee import pack_body, unpack_body

    v = VECTORS["packed_body"]
    keys = tuple(AttachmentKey.from_json(k) for k in v["attachment_keys"])
    text = bytes.fromhex(v["text"])
    assert pack_body(text, keys).hex() == v["packed"]
    case = VECTORS["body"][0]
    header = MessageHeader.from_json(case["header"])
    opened = open_body(bytes.fromhex(case["k_m"]), header.canonical(), bytes.fromhex(v["sealed"]))
    assert unpack_body(opened) == (text, keys)


@pytest.mark.parametrize(
    "junk", [b"", b"\x00\x00\x00\x09abc[]", b"\x00\x00\x00\x00{}", b"\x00\x00\x00\x00[1]"]
)
def test_unpack_body_rejects_junk(junk: bytes) -> None:
    from fulcrum.e2ee import unpack_body

    with pytest.raises(DecryptionFailed):
        unpack_body(junk)
