"""Client path per 200-byte text message vs raw vodozemac, measured in the same run.

Ours: ClientCore.compose_direct (content key, AEAD body under the canonical header, ratchet payload,
Olm encrypt to the peer's device, plus whatever standard layers are installed) followed by
ClientCore.open + accept on the receiver (Olm decrypt, payload parse, header checks, body open,
receive layers). Baseline: vodozemac Session.encrypt + decrypt of the same 200 bytes.
Target: ratio <= 3x.
"""

from __future__ import annotations

import argparse
import statistics
import time

import vodozemac

from fulcrum.client.core import ClientCore, Opened
from fulcrum.client.standard import standard_layers
from fulcrum.e2ee import (
    DeviceAccount,
    MessageHeader,
    OlmSessions,
    RatchetPayload,
    open_body,
    seal_body,
)
from fulcrum.e2ee.content import new_content_key
from fulcrum.encoding import b64e
from fulcrum.wire.api import AccountDevices, DeviceInfo, QueueItem

BODY = b"x" * 200


def core(name: str) -> ClientCore:
    device = DeviceAccount()
    layers = standard_layers()
    return ClientCore(
        name,
        f"{name.upper()}DEV",
        device,
        OlmSessions(device),
        send_layers=layers.send,
        receive_layers=layers.receive,
    )


def introduce(a: ClientCore, b: ClientCore) -> None:
    for me, other in ((a, b), (b, a)):
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
    otk = next(iter(b.device.new_one_time_keys(1).values()))
    a.sessions.start(b.device.identity_key, otk)


def fulcrum_round(alice: ClientCore, bob: ClientCore, now: float) -> None:
    env = alice.compose_direct("bob", BODY, now)
    item = QueueItem(
        seq=1,
        kind="message",
        msg_id=env.msg_id,
        conv=env.conv,
        sender="alice",
        sender_device=alice.device_id,
        server_ts=int(now * 1000),
        content_type=env.content_type,
        body=env.body,
        ratchet=env.recipients[0],
        commitment=env.commitment,
        escrow=env.escrow,
        envelope={},
        extensions=env.extensions,
    )
    opened = bob.open(item)
    assert isinstance(opened, Opened)
    bob.accept(opened, {}, now)


def crypto_round(
    sender: OlmSessions,
    receiver: OlmSessions,
    sender_key: str,
    receiver_key: str,
    header: MessageHeader,
) -> None:
    """The content-key layer + Olm + verify, without wire models or history bookkeeping."""
    k_m = new_content_key()
    aad = header.canonical()
    sealed = seal_body(k_m, aad, BODY)
    payload = RatchetPayload(header, k_m).encode()
    ct = sender.encrypt(receiver_key, payload)
    opened = RatchetPayload.decode(receiver.decrypt(sender_key, ct))
    assert opened.header == header
    assert open_body(opened.k_m, opened.header.canonical(), sealed) == BODY


def raw_round(out: vodozemac.Session, inb: vodozemac.Session) -> None:
    inb.decrypt(out.encrypt(BODY))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    alice, bob = core("alice"), core("bob")
    introduce(alice, bob)
    fulcrum_round(alice, bob, time.time())  # establish the session both ways
    a, b = vodozemac.Account(), vodozemac.Account()
    b.generate_one_time_keys(1)
    out = a.create_outbound_session(b.curve25519_key, next(iter(b.one_time_keys.values())))
    first = out.encrypt(b"hi")
    inb, _ = b.create_inbound_session(a.curve25519_key, first.to_pre_key())
    header = MessageHeader(
        "dm:alice:bob",
        "alice",
        "ALICEDEV",
        ("bob/BOBDEV",),
        "A" * 22,
        1_700_000_000_000,
        "text/plain",
    )
    sa, sb = alice.sessions, bob.sessions
    ka, kb = alice.device.identity_key, bob.device.identity_key
    ours, raw, crypto = [], [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.n):
            crypto_round(sa, sb, ka, kb, header)
        crypto.append((time.perf_counter() - t0) / args.n)
        t0 = time.perf_counter()
        for _ in range(args.n):
            raw_round(out, inb)
        raw.append((time.perf_counter() - t0) / args.n)
        t0 = time.perf_counter()
        for _ in range(args.n):
            fulcrum_round(alice, bob, time.time())
        ours.append((time.perf_counter() - t0) / args.n)
        alice.history.clear()
        bob.history.clear()
        bob.seen.clear()
    r, o, c = statistics.median(raw), statistics.median(ours), statistics.median(crypto)
    print(f"raw vodozemac Olm encrypt+decrypt, 200 B       : {r * 1e6:8.1f} us/message")
    print(
        f"content-key layer + Olm + verify (crypto path) : {c * 1e6:8.1f} us/message"
        f"  ratio {c / r:5.2f}x (target <= 3x)"
    )
    print(
        f"full ClientCore compose + open + accept        : {o * 1e6:8.1f} us/message"
        f"  ratio {o / r:5.2f}x (adds wire models, directory, history)"
    )
    print(f"layers installed: {[layer.name for layer in alice.send_layers]}")
    print("note: fulcrum path includes JSON encode/parse of payload, AES-GCM, header checks")
    _ = b64e


if __name__ == "__main__":
    main()
