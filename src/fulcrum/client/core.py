"""The sans-I/O client core: what to send next and what was received.

It holds the device's Olm account, sessions, group sessions, a trust-on-first-use device directory,
the local message history and the state of the safety layers. It never opens a socket or a file:
the async shell (``fulcrum.client.sdk``) fetches and persists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from fulcrum.client.layers import IncomingMessage, OutgoingMessage, ReceiveLayer, SendLayer
from fulcrum.e2ee import (
    DecryptionFailed,
    DeviceAccount,
    E2EEError,
    GroupReceiver,
    GroupSender,
    MessageHeader,
    OlmCiphertext,
    OlmSessions,
    RatchetPayload,
    RotationPolicy,
    open_attachment,
    open_body,
    pack_body,
    seal_body,
    unpack_body,
)
from fulcrum.e2ee.content import AttachmentKey, new_content_key
from fulcrum.e2ee.groups import GroupSessionKey
from fulcrum.e2ee.payload import encode_payload
from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json, parse_json_object
from fulcrum.wire.api import (
    AccountDevices,
    ClaimedKey,
    DeviceRef,
    EnvelopeIn,
    GroupRef,
    QueueItem,
    RatchetCiphertext,
)


class ClientError(Exception):
    """A client-side failure with a message fit to show the user."""


class DeviceKeyChanged(ClientError):
    """A known device presented a different identity key (possible impersonation)."""


@dataclass(frozen=True)
class DeviceRecord:
    account: str
    device_id: str
    identity_key: str
    signing_key: str

    @property
    def ref(self) -> str:
        return f"{self.account}/{self.device_id}"


@dataclass(frozen=True)
class ReceivedMessage:
    msg_id: str
    conv: str
    sender: str
    sender_device: str
    content_type: str
    text: str
    client_ts: int
    server_ts: int
    attachments: tuple[tuple[AttachmentKey, bytes], ...] = ()
    group_id: str | None = None

    def __repr__(self) -> str:
        return f"ReceivedMessage(msg_id={self.msg_id!r}, conv={self.conv!r})"


@dataclass(frozen=True)
class Rejected:
    """A message that failed verification: never displayed, counted and kept for reports."""

    msg_id: str
    conv: str
    sender: str
    reason: str


@dataclass(frozen=True)
class Applied:
    """A control message (group key share) that was applied."""

    msg_id: str
    what: str


Outcome = ReceivedMessage | Rejected | Applied


@dataclass
class Opened:
    """A decrypted message waiting for its attachments before verification."""

    item: QueueItem
    payload: RatchetPayload


def dm_conversation(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return f"dm:{x}:{y}"


def new_message_id() -> str:
    return b64e(secrets.token_bytes(16))


@dataclass
class ClientCore:
    account: str
    device_id: str
    device: DeviceAccount
    sessions: OlmSessions
    group_receiver: GroupReceiver = field(default_factory=GroupReceiver)
    group_senders: dict[str, GroupSender] = field(default_factory=dict)
    group_shared_with: dict[str, set[str]] = field(default_factory=dict)
    directory: dict[str, dict[str, DeviceRecord]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    layer_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected_count: int = 0
    send_layers: list[SendLayer] = field(default_factory=list)
    receive_layers: list[ReceiveLayer] = field(default_factory=list)
    rotation: RotationPolicy = field(default_factory=RotationPolicy)

    def __repr__(self) -> str:
        return f"ClientCore(account={self.account!r}, device_id={self.device_id!r})"

    @property
    def device_ref(self) -> str:
        return f"{self.account}/{self.device_id}"

    # --- directory ----------------------------------------------------------------------------

    def update_directory(self, listing: AccountDevices) -> None:
        """Record an account's devices; a known device whose keys changed is refused (TOFU)."""
        known = self.directory.setdefault(listing.account, {})
        for info in listing.devices:
            old = known.get(info.device_id)
            if old is not None and (
                old.identity_key != info.identity_key or old.signing_key != info.signing_key
            ):
                raise DeviceKeyChanged(f"device {listing.account}/{info.device_id} changed keys")
        for info in listing.devices:
            known[info.device_id] = DeviceRecord(
                listing.account, info.device_id, info.identity_key, info.signing_key
            )
        live = {d.device_id for d in listing.devices}
        for device_id in list(known):
            if device_id not in live:
                del known[device_id]

    def devices_of(self, accounts: list[str]) -> list[DeviceRecord]:
        """Every known device of these accounts except this one."""
        out = [
            record
            for account in sorted(set(accounts))
            for record in self.directory.get(account, {}).values()
            if record.ref != self.device_ref
        ]
        return sorted(out, key=lambda r: r.ref)

    def lookup(self, account: str, device_id: str) -> DeviceRecord | None:
        return self.directory.get(account, {}).get(device_id)

    def missing_sessions(self, devices: list[DeviceRecord]) -> list[DeviceRef]:
        return [
            DeviceRef(account=d.account, device_id=d.device_id)
            for d in devices
            if not self.sessions.has_session(d.identity_key)
        ]

    def start_sessions(self, claimed: list[ClaimedKey]) -> None:
        for key in claimed:
            record = self.lookup(key.account, key.device_id)
            if record is None or record.identity_key != key.identity_key:
                raise DeviceKeyChanged(f"claimed key for {key.account}/{key.device_id} is unknown")
            self.sessions.start(key.identity_key, key.one_time_key)

    # --- composing ----------------------------------------------------------------------------

    def compose_direct(
        self,
        peer: str,
        body: bytes,
        now: float,
        *,
        content_type: str = "text/plain",
        attachments: list[tuple[AttachmentKey, bytes]] | None = None,
    ) -> EnvelopeIn:
        devices = self.devices_of([peer, self.account])
        if not any(d.account == peer for d in devices):
            raise ClientError(f"{peer} has no registered devices")
        header = self._header(dm_conversation(self.account, peer), devices, now, content_type)
        outgoing = self._outgoing(header, body, now, attachments or [])
        payload = self._payload(outgoing)  # encoded once, whatever the number of devices
        recipients = [self._olm_to(d, payload) for d in devices]
        return self._envelope(outgoing, recipients=recipients)

    def group_key_recipients(
        self, group_id: str, epoch: int, members: list[str], now: float
    ) -> list[DeviceRecord]:
        """Rotate the outbound session if needed and list devices still lacking its key."""
        sender = self.group_senders.get(group_id)
        if sender is None or sender.needs_rotation(epoch, now, self.rotation):
            self.group_senders[group_id] = GroupSender(group_id, epoch, now)
            self.group_shared_with[group_id] = set()
        shared = self.group_shared_with.setdefault(group_id, set())
        return [d for d in self.devices_of(members) if d.ref not in shared]

    def compose_group_key_share(
        self, group_id: str, devices: list[DeviceRecord], now: float
    ) -> EnvelopeIn:
        key = self.group_senders[group_id].session_key()
        content = canonical_json(
            {
                "v": 1,
                "type": "megolm-key",
                "sender": self.account,
                "sender_device": self.device_id,
                "group_id": key.group_id,
                "session_id": key.session_id,
                "session_key": key.session_key,
            }
        )
        recipients = []
        for device in devices:
            ct = self.sessions.encrypt(device.identity_key, content)
            recipients.append(
                RatchetCiphertext(
                    account=device.account,
                    device_id=device.device_id,
                    type=0 if ct.type == 0 else 1,
                    body=b64e(ct.body),
                )
            )
        self.group_shared_with.setdefault(group_id, set()).update(d.ref for d in devices)
        return EnvelopeIn(
            msg_id=new_message_id(),
            conv=f"group:{group_id}",
            kind="control",
            content_type="application/x-fulcrum-key",
            recipients=recipients,
        )

    def compose_group(
        self,
        group_id: str,
        epoch: int,
        members: list[str],
        body: bytes,
        now: float,
        *,
        content_type: str = "text/plain",
        attachments: list[tuple[AttachmentKey, bytes]] | None = None,
    ) -> EnvelopeIn:
        sender = self.group_senders[group_id]
        devices = self.devices_of(members)
        header = self._header(f"group:{group_id}", devices, now, content_type, group_id, epoch)
        outgoing = self._outgoing(header, body, now, attachments or [])
        payload = self._payload(outgoing)
        return self._envelope(
            outgoing,
            group=GroupRef(group_id=group_id, membership_epoch=epoch),
            group_ratchet=b64e(sender.encrypt(payload)),
        )

    def _header(
        self,
        conv: str,
        devices: list[DeviceRecord],
        now: float,
        content_type: str,
        group_id: str | None = None,
        epoch: int | None = None,
    ) -> MessageHeader:
        return MessageHeader(
            conv=conv,
            sender=self.account,
            sender_device=self.device_id,
            recipients=tuple(sorted(d.ref for d in devices)),
            msg_id=new_message_id(),
            client_ts=int(now * 1000),
            content_type=content_type,
            group_id=group_id,
            membership_epoch=epoch,
        )

    def _outgoing(
        self,
        header: MessageHeader,
        body: bytes,
        now: float,
        attachments: list[tuple[AttachmentKey, bytes]],
    ) -> OutgoingMessage:
        outgoing = OutgoingMessage(
            header=header,
            body=body,
            k_m=new_content_key(),
            attachments=[a for a, _ in attachments],
            attachment_plaintexts={a.attachment_id: data for a, data in attachments},
            now=now,
        )
        for layer in self.send_layers:
            layer.on_send(outgoing, self.layer_state.setdefault(layer.name, {}))
        return outgoing

    def _payload(self, outgoing: OutgoingMessage) -> bytes:
        """The encoded ratchet payload (version 2)."""
        return encode_payload(outgoing.header, outgoing.k_m, outgoing.attachments, outgoing.layers)

    def _olm_to(self, device: DeviceRecord, payload: bytes) -> RatchetCiphertext:
        ct = self.sessions.encrypt(device.identity_key, payload)
        return RatchetCiphertext(
            account=device.account,
            device_id=device.device_id,
            type=0 if ct.type == 0 else 1,
            body=b64e(ct.body),
        )

    def _envelope(
        self,
        outgoing: OutgoingMessage,
        *,
        recipients: list[RatchetCiphertext] | None = None,
        group: GroupRef | None = None,
        group_ratchet: str | None = None,
    ) -> EnvelopeIn:
        header = outgoing.header
        body = seal_body(
            outgoing.k_m, header.canonical(), pack_body(outgoing.body, outgoing.attachments)
        )
        self._remember(
            header.msg_id,
            header.conv,
            self.account,
            self.device_id,
            "out",
            outgoing.body,
            header.content_type,
            header.client_ts,
            0,
            [a.name for a in outgoing.attachments],
        )
        return EnvelopeIn(
            msg_id=header.msg_id,
            conv=header.conv,
            content_type=header.content_type,
            body=b64e(body),
            recipients=recipients or [],
            group=group,
            group_ratchet=group_ratchet,
            attachments=[a.attachment_id for a in outgoing.attachments],
            commitment=None if outgoing.commitment is None else b64e(outgoing.commitment),
            escrow=None if outgoing.escrow is None else b64e(outgoing.escrow),
            extensions=outgoing.extensions,
        )

    def record_server_time(self, msg_id: str, server_ts: int) -> None:
        for entry in reversed(self.history):
            if entry["msg_id"] == msg_id and entry["direction"] == "out":
                entry["server_ts"] = server_ts
                return

    # --- receiving ----------------------------------------------------------------------------

    def is_duplicate(self, item: QueueItem) -> bool:
        return f"{item.sender}/{item.msg_id}" in self.seen

    def open(self, item: QueueItem) -> Opened | Applied | Rejected:
        """Decrypt the ratchet layer. Raises ``ClientError`` if the sender device is unknown."""
        sender = self.lookup(item.sender, item.sender_device)
        if sender is None:
            raise ClientError(f"unknown sender device {item.sender}/{item.sender_device}")
        try:
            if item.kind == "control":
                return self._apply_control(item, sender)
            if item.group is not None and item.group_ratchet is not None:
                _, _, raw = self.group_receiver.decrypt(
                    sender.identity_key, b64d(item.group_ratchet)
                )
            elif item.ratchet is not None:
                ct = OlmCiphertext(item.ratchet.type, b64d(item.ratchet.body))
                raw = self.sessions.decrypt(sender.identity_key, ct)
            else:
                return self._reject(item, "no ciphertext for this device")
            payload = RatchetPayload.decode(raw)
        except (E2EEError, EncodingError) as exc:
            return self._reject(item, f"could not decrypt: {type(exc).__name__}")
        problem = self._header_problem(item, payload.header)
        if problem:
            return self._reject(item, problem)
        return Opened(item, payload)

    def _header_problem(self, item: QueueItem, header: MessageHeader) -> str | None:
        if (header.conv, header.sender, header.sender_device, header.msg_id) != (
            item.conv,
            item.sender,
            item.sender_device,
            item.msg_id,
        ):
            return "header does not match envelope"
        if self.device_ref not in header.recipients:
            return "this device is not among the recipients"
        if item.group is not None and (
            header.group_id != item.group.group_id
            or header.membership_epoch != item.group.membership_epoch
        ):
            return "group reference does not match envelope"
        return None

    def _apply_control(self, item: QueueItem, sender: DeviceRecord) -> Applied | Rejected:
        if item.ratchet is None:
            return self._reject(item, "control message without ciphertext")
        raw = self.sessions.decrypt(
            sender.identity_key, OlmCiphertext(item.ratchet.type, b64d(item.ratchet.body))
        )
        data = parse_json_object(raw)
        if data.get("type") != "megolm-key" or (data.get("sender"), data.get("sender_device")) != (
            item.sender,
            item.sender_device,
        ):
            return self._reject(item, "control message does not match its sender")
        self.group_receiver.add(
            sender.identity_key,
            GroupSessionKey(
                str(data["group_id"]), str(data["session_id"]), str(data["session_key"])
            ),
        )
        self.seen.add(f"{item.sender}/{item.msg_id}")
        return Applied(item.msg_id, f"group key for {data['group_id']}")

    def accept(self, opened: Opened, blobs: dict[str, bytes], now: float) -> Outcome:
        """Open body and attachments, run the receive layers, and record the outcome."""
        item, payload = opened.item, opened.payload
        try:
            body, sealed_keys = unpack_body(
                open_body(payload.k_m, payload.header.canonical(), b64d(item.body))
            )
            if sealed_keys != payload.attachments:
                return self._reject(item, "attachment keys in body and payload differ")
            files = {
                a.attachment_id: open_attachment(a, blobs[a.attachment_id])
                for a in payload.attachments
            }
        except (DecryptionFailed, KeyError, EncodingError):
            return self._reject(item, "body or attachment does not authenticate")
        if sorted(files) != sorted(item.attachments):
            return self._reject(item, "attachment list does not match envelope")
        incoming = IncomingMessage(item, payload, body, files, now)
        for layer in self.receive_layers:
            reason = layer.on_receive(incoming, self.layer_state.setdefault(layer.name, {}))
            if reason is not None:
                return self._reject(item, reason)
        text = body.decode("utf-8", errors="replace")
        self._remember(
            item.msg_id,
            item.conv,
            item.sender,
            item.sender_device,
            "in",
            body,
            payload.header.content_type,
            payload.header.client_ts,
            item.server_ts,
            [a.name for a in payload.attachments],
        )
        self.seen.add(f"{item.sender}/{item.msg_id}")
        return ReceivedMessage(
            msg_id=item.msg_id,
            conv=item.conv,
            sender=item.sender,
            sender_device=item.sender_device,
            content_type=payload.header.content_type,
            text=text,
            client_ts=payload.header.client_ts,
            server_ts=item.server_ts,
            attachments=tuple((a, files[a.attachment_id]) for a in payload.attachments),
            group_id=payload.header.group_id,
        )

    def _reject(self, item: QueueItem, reason: str) -> Rejected:
        self.rejected_count += 1
        self.seen.add(f"{item.sender}/{item.msg_id}")
        return Rejected(item.msg_id, item.conv, item.sender, reason)

    def _remember(
        self,
        msg_id: str,
        conv: str,
        sender: str,
        sender_device: str,
        direction: str,
        body: bytes,
        content_type: str,
        client_ts: int,
        server_ts: int,
        attachment_names: list[str],
    ) -> None:
        self.history.append(
            {
                "msg_id": msg_id,
                "conv": conv,
                "sender": sender,
                "sender_device": sender_device,
                "direction": direction,
                "text": body.decode("utf-8", errors="replace"),
                "content_type": content_type,
                "client_ts": client_ts,
                "server_ts": server_ts,
                "attachments": attachment_names,
            }
        )
