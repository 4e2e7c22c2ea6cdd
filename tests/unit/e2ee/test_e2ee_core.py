import dataclasses

import pytest

from fulcrum.e2ee import (
    DecryptionFailed,
    DeviceAccount,
    GroupReceiver,
    GroupSender,
    MessageHeader,
    OlmSessions,
    RatchetPayload,
    ReplayedMessage,
    RotationPolicy,
    open_attachment,
    open_body,
    seal_attachment,
    seal_body,
)
from fulcrum.e2ee.at_rest import open_state, pickle_key, seal_state, storage_key
from fulcrum.e2ee.content import AttachmentKey, new_content_key
from fulcrum.e2ee.errors import MissingSession

pytestmark = pytest.mark.unit


def _pair() -> tuple[DeviceAccount, OlmSessions, DeviceAccount, OlmSessions]:
    alice, bob = DeviceAccount(), DeviceAccount()
    otk = next(iter(bob.new_one_time_keys(1).values()))
    a_sessions, b_sessions = OlmSessions(alice), OlmSessions(bob)
    a_sessions.start(bob.identity_key, otk)
    return alice, a_sessions, bob, b_sessions


def test_olm_round_trip_both_directions() -> None:
    alice, a_s, bob, b_s = _pair()
    first = a_s.encrypt(bob.identity_key, b"hello bob")
    assert first.type == 0
    assert b_s.decrypt(alice.identity_key, first) == b"hello bob"
    reply = b_s.encrypt(alice.identity_key, b"hi alice")
    assert a_s.decrypt(bob.identity_key, reply) == b"hi alice"
    assert a_s.encrypt(bob.identity_key, b"x").type == 1


def test_olm_out_of_order_and_skipped() -> None:
    alice, a_s, bob, b_s = _pair()
    assert b_s.decrypt(alice.identity_key, a_s.encrypt(bob.identity_key, b"0")) == b"0"
    b_s.encrypt(alice.identity_key, b"ack")  # not needed for order test
    msgs = [a_s.encrypt(bob.identity_key, f"m{i}".encode()) for i in range(5)]
    for i in (3, 0, 4, 1, 2):
        assert b_s.decrypt(alice.identity_key, msgs[i]) == f"m{i}".encode()


def test_olm_tampered_and_replayed_rejected() -> None:
    alice, a_s, bob, b_s = _pair()
    first = a_s.encrypt(bob.identity_key, b"secret")
    b_s.decrypt(alice.identity_key, first)
    second = a_s.encrypt(bob.identity_key, b"two")
    tampered = type(second)(second.type, second.body[:-1] + bytes([second.body[-1] ^ 1]))
    with pytest.raises(DecryptionFailed):
        b_s.decrypt(alice.identity_key, tampered)
    assert b_s.decrypt(alice.identity_key, second) == b"two"
    with pytest.raises(DecryptionFailed):
        b_s.decrypt(alice.identity_key, second)


def test_olm_without_session_is_typed_error() -> None:
    alice = OlmSessions(DeviceAccount())
    with pytest.raises(MissingSession):
        alice.encrypt(DeviceAccount().identity_key, b"x")


def test_olm_survives_pickle() -> None:
    alice, a_s, bob, b_s = _pair()
    b_s.decrypt(alice.identity_key, a_s.encrypt(bob.identity_key, b"1"))
    key = b"k" * 32
    bob2 = DeviceAccount.from_pickle(bob.pickle(key), key)
    b_s2 = OlmSessions.from_pickle(bob2, b_s.pickle(key), key)
    assert b_s2.decrypt(alice.identity_key, a_s.encrypt(bob.identity_key, b"2")) == b"2"
    with pytest.raises(DecryptionFailed):
        DeviceAccount.from_pickle(bob.pickle(key), b"z" * 32)


def test_megolm_replay_rejected_and_foreign_sender_refused() -> None:
    sender = GroupSender("g1", 0, created_at=0.0)
    receiver = GroupReceiver()
    receiver.add("alice-identity", sender.session_key())
    ct = sender.encrypt(b"to the group")
    assert receiver.decrypt("alice-identity", ct)[2] == b"to the group"
    with pytest.raises(ReplayedMessage):
        receiver.decrypt("alice-identity", ct)
    with pytest.raises(MissingSession):
        receiver.decrypt("mallory-identity", sender.encrypt(b"x"))


def test_megolm_rotation_policy_and_removed_member() -> None:
    policy = RotationPolicy(max_messages=2, max_age_seconds=100)
    sender = GroupSender("g1", 3, created_at=1000.0)
    assert not sender.needs_rotation(3, 1001.0, policy)
    assert sender.needs_rotation(4, 1001.0, policy)  # membership changed
    assert sender.needs_rotation(3, 1100.0, policy)  # too old
    sender.encrypt(b"a")
    sender.encrypt(b"b")
    assert sender.needs_rotation(3, 1001.0, policy)
    # A removed member keeps only the old session: the rotated one is unreadable to it.
    removed = GroupReceiver()
    removed.add("alice", sender.session_key())
    rotated = GroupSender("g1", 4, created_at=1001.0)
    with pytest.raises(MissingSession):
        removed.decrypt("alice", rotated.encrypt(b"after removal"))


def test_megolm_pickle_keeps_replay_state() -> None:
    sender = GroupSender("g1", 0, created_at=0.0)
    receiver = GroupReceiver()
    receiver.add("alice", sender.session_key())
    ct = sender.encrypt(b"x")
    receiver.decrypt("alice", ct)
    key = b"p" * 32
    restored = GroupReceiver.from_pickle(receiver.pickle(key), key)
    with pytest.raises(ReplayedMessage):
        restored.decrypt("alice", ct)
    sender2 = GroupSender.from_pickle(sender.pickle(key), key)
    assert restored.decrypt("alice", sender2.encrypt(b"y"))[2] == b"y"


def _header() -> MessageHeader:
    return MessageHeader(
        conv="dm:alice:bob",
        sender="alice",
        sender_device="DEV1",
        recipients=("alice/DEV2", "bob/DEV3"),
        msg_id="A" * 22,
        client_ts=1_700_000_000_000,
        content_type="text/plain",
    )


def test_body_bound_to_header() -> None:
    k_m = new_content_key()
    header = _header()
    sealed = seal_body(k_m, header.canonical(), b"body")
    assert open_body(k_m, header.canonical(), sealed) == b"body"
    other = dataclasses.replace(header, sender="mallory")
    with pytest.raises(DecryptionFailed):
        open_body(k_m, other.canonical(), sealed)
    with pytest.raises(DecryptionFailed):
        open_body(new_content_key(), header.canonical(), sealed)


def test_attachment_round_trip_and_commitment() -> None:
    sealed = seal_attachment(b"picture bytes" * 100)
    key = AttachmentKey(
        "att1",
        sealed.k_att,
        sealed.nonce,
        sealed.key_commit,
        sealed.sha256_plain,
        sealed.size,
        "image/png",
        "p.png",
    )
    assert open_attachment(key, sealed.ciphertext) == b"picture bytes" * 100
    flipped = bytearray(sealed.ciphertext)
    flipped[0] ^= 1
    with pytest.raises(DecryptionFailed):
        open_attachment(key, bytes(flipped))
    other = seal_attachment(b"other")
    wrong_key = AttachmentKey(
        "att1",
        other.k_att,
        sealed.nonce,
        sealed.key_commit,
        sealed.sha256_plain,
        sealed.size,
        "image/png",
        "p.png",
    )
    with pytest.raises(DecryptionFailed):
        open_attachment(wrong_key, sealed.ciphertext)


def test_payload_round_trip_and_strictness() -> None:
    payload = RatchetPayload(_header(), new_content_key(), (), {"franking": {"x": 1}})
    assert RatchetPayload.decode(payload.encode()) == payload
    for junk in (b"", b"[]", b'{"v":2}', b'{"v":1,"header":{},"k_m":"AA"}'):
        with pytest.raises(DecryptionFailed):
            RatchetPayload.decode(junk)
    assert "k_m" not in repr(payload)


def test_state_at_rest_needs_the_passphrase() -> None:
    salt = b"s" * 16
    key = storage_key("correct horse", salt, 10)
    blob = seal_state(key, salt, 10, b'{"state": 1}')
    assert b"state" not in blob
    assert open_state(key, blob) == b'{"state": 1}'
    with pytest.raises(DecryptionFailed):
        open_state(storage_key("wrong", salt, 10), blob)
    with pytest.raises(DecryptionFailed):
        open_state(key, blob[:-1] + bytes([blob[-1] ^ 1]))
    assert pickle_key(key) != key
