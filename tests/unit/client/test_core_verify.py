"""ClientCore's receive path stays strict with the version-2 payload: a tampered byte anywhere in
the ratchet ciphertext or the sealed body hides the message, and so does any mismatch between the
encrypted header and the clear envelope."""

from typing import Any

import pytest

from fulcrum.client.core import ClientCore, Opened, ReceivedMessage, Rejected
from fulcrum.e2ee import DeviceAccount, OlmSessions, seal_attachment
from fulcrum.e2ee.content import AttachmentKey
from fulcrum.encoding import b64d, b64e
from fulcrum.wire.api import AccountDevices, DeviceInfo, EnvelopeIn, QueueItem

pytestmark = pytest.mark.unit

NOW = 1_764_158_400.0


def _core(name: str) -> ClientCore:
    device = DeviceAccount()
    return ClientCore(name, f"{name.upper()}DEV", device, OlmSessions(device))


def _pair() -> tuple[ClientCore, ClientCore]:
    alice, bob = _core("alice"), _core("bob")
    for me, other in ((alice, bob), (bob, alice)):
        me.update_directory(
            AccountDevices(
                account=other.account,
                devices=[
                    DeviceInfo(
                        device_id=other.device_id,
                        identity_key=other.device.identity_key,
                        signing_key=other.device.signing_key,
                    )
                ],
            )
        )
    otk = next(iter(bob.device.new_one_time_keys(1).values()))
    alice.sessions.start(bob.device.identity_key, otk)
    return alice, bob


def _item(env: EnvelopeIn, sender: ClientCore, **changes: Any) -> QueueItem:
    item = QueueItem(
        seq=1,
        kind="message",
        msg_id=env.msg_id,
        conv=env.conv,
        sender=sender.account,
        sender_device=sender.device_id,
        server_ts=int(NOW * 1000),
        content_type=env.content_type,
        body=env.body,
        ratchet=next(r for r in env.recipients if r.account == "bob"),
        attachments=env.attachments,
    )
    return item.model_copy(update=changes)


def _flip(b64: str, i: int) -> str:
    raw = bytearray(b64d(b64))
    raw[i] ^= 0x01
    return b64e(bytes(raw))


def test_round_trip_then_duplicate_and_replay_are_caught() -> None:
    alice, bob = _pair()
    env = alice.compose_direct("bob", "héllo".encode(), NOW)
    assert len(env.recipients) == 1  # alice has no other device; bob one
    item = _item(env, alice)
    opened = bob.open(item)
    assert isinstance(opened, Opened)
    assert opened.payload.header.recipients == ("bob/BOBDEV",)
    outcome = bob.accept(opened, {}, NOW)
    assert isinstance(outcome, ReceivedMessage)
    assert outcome.text == "héllo"
    assert bob.is_duplicate(item)
    assert isinstance(bob.open(item), Rejected)  # the Olm message key is spent


def test_every_tampered_byte_of_the_ratchet_ciphertext_is_rejected() -> None:
    alice, bob = _pair()
    env = alice.compose_direct("bob", b"x" * 200, NOW)
    item = _item(env, alice)
    assert item.ratchet is not None
    size = len(b64d(item.ratchet.body))
    for i in range(size):
        ratchet = item.ratchet.model_copy(update={"body": _flip(item.ratchet.body, i)})
        assert isinstance(bob.open(_item(env, alice, ratchet=ratchet)), Rejected), i
    # failed attempts leave the session usable: the untouched message still opens
    opened = bob.open(item)
    assert isinstance(opened, Opened)
    assert isinstance(bob.accept(opened, {}, NOW), ReceivedMessage)


def test_every_tampered_byte_of_the_sealed_body_is_rejected() -> None:
    alice, bob = _pair()
    env = alice.compose_direct("bob", b"x" * 200, NOW)
    opened = bob.open(_item(env, alice))
    assert isinstance(opened, Opened)
    for i in range(len(b64d(env.body))):
        tampered = Opened(_item(env, alice, body=_flip(env.body, i)), opened.payload)
        assert isinstance(bob.accept(tampered, {}, NOW), Rejected), i
    assert isinstance(bob.accept(opened, {}, NOW), ReceivedMessage)


@pytest.mark.parametrize(
    "changes",
    [
        {"conv": "dm:alice:carol"},
        {"sender_device": "OTHERDEV"},
        {"msg_id": b64e(bytes(16))},
    ],
)
def test_envelope_that_disagrees_with_the_encrypted_header_is_rejected(
    changes: dict[str, Any],
) -> None:
    alice, bob = _pair()
    if "sender_device" in changes:  # a known device, so the mismatch is what gets caught
        bob.directory["alice"]["OTHERDEV"] = bob.directory["alice"]["ALICEDEV"]
    env = alice.compose_direct("bob", b"hi", NOW)
    outcome = bob.open(_item(env, alice, **changes))
    assert isinstance(outcome, Rejected)
    assert "header does not match" in outcome.reason


def test_a_device_not_among_the_recipients_is_refused() -> None:
    alice, bob = _pair()
    env = alice.compose_direct("bob", b"hi", NOW)
    bob.device_id = "BOBOTHER"  # the same Olm session, but the header names BOBDEV
    outcome = bob.open(_item(env, alice))
    assert isinstance(outcome, Rejected)
    assert "not among the recipients" in outcome.reason


def test_attachment_keys_are_checked_against_the_blob() -> None:
    alice, bob = _pair()
    data = b"picture" * 50
    sealed = seal_attachment(data)
    key = AttachmentKey(
        "att-1",
        sealed.k_att,
        sealed.nonce,
        sealed.key_commit,
        sealed.sha256_plain,
        sealed.size,
        "image/png",
        "p.png",
    )
    env = alice.compose_direct("bob", b"see attached", NOW, attachments=[(key, data)])
    opened = bob.open(_item(env, alice))
    assert isinstance(opened, Opened)
    assert opened.payload.attachments == (key,)
    tampered = bytearray(sealed.ciphertext)
    tampered[-1] ^= 1
    assert isinstance(bob.accept(opened, {"att-1": bytes(tampered)}, NOW), Rejected)
    opened = bob.open(_item(_resend(alice, key, data), alice))
    assert isinstance(opened, Opened)
    outcome = bob.accept(opened, {"att-1": sealed.ciphertext}, NOW)
    assert isinstance(outcome, ReceivedMessage)
    assert outcome.attachments == ((key, data),)


def _resend(alice: ClientCore, key: AttachmentKey, data: bytes) -> EnvelopeIn:
    return alice.compose_direct("bob", b"again", NOW, attachments=[(key, data)])
