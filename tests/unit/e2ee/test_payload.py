"""The version-2 ratchet payload and the canonical header: round trips, strictness, canonicity."""

import contextlib
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from fulcrum.e2ee import DecryptionFailed, MalformedPayload, MessageHeader, RatchetPayload
from fulcrum.e2ee.content import AttachmentKey
from fulcrum.e2ee.header import MAX_SAFE_INT
from fulcrum.e2ee.payload import encode_payload
from fulcrum.encoding import EncodingError, canonical_json

pytestmark = pytest.mark.unit

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
safe_ints = st.integers(min_value=0, max_value=MAX_SAFE_INT)


@st.composite
def headers(draw: st.DrawFn) -> MessageHeader:
    grouped = draw(st.booleans())
    return MessageHeader(
        conv=draw(texts),
        sender=draw(texts),
        sender_device=draw(texts),
        recipients=tuple(sorted(draw(st.sets(texts, max_size=4)))),
        msg_id=draw(texts),
        client_ts=draw(safe_ints),
        content_type=draw(texts),
        group_id=draw(texts) if grouped else None,
        membership_epoch=draw(safe_ints) if grouped else None,
    )


attachment_keys = st.builds(
    AttachmentKey,
    texts,
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=12, max_size=12),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
    safe_ints,
    texts,
    texts,
)
layer_values = st.dictionaries(
    st.text(max_size=6),
    st.recursive(
        st.none() | st.booleans() | st.integers() | texts,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
        max_leaves=6,
    ),
    max_size=3,
)


def _header(**changes: Any) -> MessageHeader:
    fields: dict[str, Any] = {
        "conv": "dm:alice:bob",
        "sender": "alice",
        "sender_device": "DEV1",
        "recipients": ("alice/DEV2", "bob/DEV3"),
        "msg_id": "A" * 22,
        "client_ts": 1_700_000_000_000,
        "content_type": "text/plain",
    }
    fields.update(changes)
    return MessageHeader(**fields)


@settings(max_examples=300, deadline=None)
@given(headers())
def test_canonical_header_is_rfc8785(header: MessageHeader) -> None:
    expected = rfc8785.dumps(header.to_json())
    assert header.canonical() == expected
    assert canonical_json(header.to_json()) == expected


@settings(max_examples=200, deadline=None)
@given(
    headers(),
    st.binary(min_size=32, max_size=32),
    st.lists(attachment_keys, max_size=2),
    layer_values,
)
def test_round_trip(
    header: MessageHeader, k_m: bytes, keys: list[AttachmentKey], layers: dict[str, Any]
) -> None:
    payload = RatchetPayload(header, k_m, tuple(keys), layers)
    encoded = payload.encode()
    assert encoded[0] == 2
    decoded = RatchetPayload.decode(encoded)
    assert decoded == payload
    assert decoded.header.canonical() == header.canonical()
    assert encode_payload(header, k_m, keys, layers) == encoded


def _sample() -> RatchetPayload:
    key = AttachmentKey("att-1", b"k" * 32, b"n" * 12, b"c" * 32, b"h" * 32, 68, "text/plain", "n")
    return RatchetPayload(
        _header(group_id="g", membership_epoch=3), b"\x07" * 32, (key,), {"franking": {"x": 1}}
    )


def test_every_prefix_and_every_extension_is_refused() -> None:
    encoded = _sample().encode()
    for end in range(len(encoded)):
        with pytest.raises(MalformedPayload):
            RatchetPayload.decode(encoded[:end])
    for extra in (b"\x00", b" ", b"{}"):
        with pytest.raises(MalformedPayload):
            RatchetPayload.decode(encoded + extra)


def test_a_flipped_bit_never_decodes_to_the_same_payload() -> None:
    for payload in (_sample(), RatchetPayload(_header(), b"\x01" * 32)):
        encoded = payload.encode()
        for i in range(len(encoded)):
            for bit in (0x01, 0x80):
                tampered = bytearray(encoded)
                tampered[i] ^= bit
                try:
                    decoded = RatchetPayload.decode(bytes(tampered))
                except DecryptionFailed:
                    continue
                assert decoded != payload
                if not payload.layers:  # without layers the encoding is canonical
                    assert decoded.encode() == bytes(tampered)


@pytest.mark.parametrize("version", [v for v in range(256) if v not in (2, ord("{"))])
def test_unknown_version_bytes_are_refused(version: int) -> None:
    encoded = _sample().encode()
    with pytest.raises(MalformedPayload, match="version"):
        RatchetPayload.decode(bytes([version]) + encoded[1:])


@pytest.mark.parametrize(
    "junk",
    [
        b"[]",
        b'{"v":2}',
        b'{"v":1,"header":{},"k_m":"AA"}',
        b'{"v":1,"header":[],"k_m":"AA"}',
        b'{"v":1,"header":{},"k_m":5}',
        b'{"v":1,"layers":[]}',
        b'{"v":1,"attachments":{},"header":{},"k_m":"AA"}',
        b"{not json",
    ],
)
def test_malformed_v1_json_is_a_typed_error(junk: bytes) -> None:
    with pytest.raises(MalformedPayload):
        RatchetPayload.decode(junk)


@pytest.mark.parametrize(
    ("header", "k_m"),
    [
        (_header(recipients=("bob/B", "alice/A")), b"k" * 32),
        (_header(recipients=("a/A", "a/A")), b"k" * 32),
        (_header(), b"short"),
        (_header(group_id="g"), b"k" * 32),
        (_header(membership_epoch=1), b"k" * 32),
        (_header(client_ts=-1), b"k" * 32),
        (_header(client_ts=MAX_SAFE_INT + 1), b"k" * 32),
        (_header(conv="\ud800"), b"k" * 32),
        (_header(conv=5), b"k" * 32),
    ],
)
def test_encoder_refuses_what_the_decoder_would(header: MessageHeader, k_m: bytes) -> None:
    with pytest.raises(EncodingError):
        encode_payload(header, k_m)


@pytest.mark.parametrize(
    "header",
    [
        _header(client_ts=True),
        _header(client_ts=-1),
        _header(client_ts=2**53),
        _header(group_id="g", membership_epoch=2**60),
        _header(conv=5),
        _header(recipients=("a", 5)),
    ],
)
def test_canonical_header_refuses_out_of_shape_values(header: MessageHeader) -> None:
    with pytest.raises(DecryptionFailed):
        header.canonical()


def test_canonical_is_computed_once_and_ignored_by_equality() -> None:
    a, b = _header(), _header()
    first = a.canonical()
    assert a.canonical() is first
    assert a == b and hash(a) == hash(b)
    assert "canonical" not in repr(a)


def test_repr_hides_the_content_key() -> None:
    payload = _sample()
    assert payload.k_m.hex() not in repr(payload)
    assert "k_m" not in repr(payload)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([b"\x02", b"{", b""]))
def test_arbitrary_bytes_decode_or_fail_with_the_typed_error(junk: bytes, lead: bytes) -> None:
    with contextlib.suppress(MalformedPayload):
        RatchetPayload.decode(lead + junk)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_edited_payloads_decode_or_fail_with_the_typed_error(data: st.DataObject) -> None:
    encoded = bytearray(_sample().encode())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(encoded) - 1))
        encoded[i] = data.draw(st.integers(0, 255))
    with contextlib.suppress(MalformedPayload):
        RatchetPayload.decode(bytes(encoded))


def test_deeply_nested_json_is_a_typed_error() -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(MalformedPayload):
        RatchetPayload.decode(b'{"v":1,"layers":' + nested + b"}")
    good = _sample().encode()
    size = len(good) - good.index(b'{"franking"')
    body = b'{"a":' + nested + b"}"
    with pytest.raises(MalformedPayload):
        RatchetPayload.decode(good[: -size - 4] + len(body).to_bytes(4, "big") + body)
