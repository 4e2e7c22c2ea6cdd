"""The send path: validate an envelope, compute the server's env, enqueue, run hooks.

All of it runs in one write transaction (``accept_envelope``); the caller pushes notifications
after commit.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json
from fulcrum.server.errors import ApiError, conflict, forbidden, invalid, not_found
from fulcrum.server.hooks import HookChain, SendContext, SendRefused
from fulcrum.store import (
    AccountDirectory,
    AttachmentStore,
    Delivery,
    DeviceRecord,
    GroupDirectory,
    GroupRecord,
    MessageStore,
    NewMessage,
)
from fulcrum.wire.api import EnvelopeIn, FrankingTag, SendReceipt

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")


@dataclass(frozen=True)
class Accepted:
    receipt: SendReceipt
    pushes: tuple[tuple[str, int], ...]  # (device_id, seq) to notify after commit


def content_hash(envelope: EnvelopeIn) -> str:
    """Fingerprint of everything the client sent: same msg_id + same hash = a retry."""
    data = json.dumps(envelope.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def members_sha256(members: tuple[str, ...]) -> str:
    return hashlib.sha256(canonical_json(sorted(members))).hexdigest()


def _bytes(text: str | None, field: str) -> bytes | None:
    if text is None:
        return None
    try:
        return b64d(text)
    except EncodingError as exc:
        raise invalid(f"{field}: not canonical base64url") from exc


def _dm_accounts(conv: str, sender: str) -> tuple[str, str]:
    parts = conv.removeprefix("dm:").split(":")
    if len(parts) != 2 or not all(_NAME.match(p) for p in parts):
        raise invalid("conv: a direct conversation is dm:<account>:<account>")
    a, b = parts
    if a > b:
        raise invalid("conv: account names in a dm conversation must be sorted")
    if sender not in (a, b):
        raise forbidden("the sender is not a party to this conversation")
    return a, b


@dataclass
class DirectoryView:
    """The relay's directory as the send path reads it: devices of accounts and groups.

    Answers are memoised for the life of one send transaction (devices and groups do not change
    on the send path); ``prefetch`` reads the devices of many accounts in one SELECT, which is how
    a batch plans all of its envelopes with one query."""

    session: Session
    _devices: dict[str, list[DeviceRecord]] = field(default_factory=dict)
    _groups: dict[str, GroupRecord | None] = field(default_factory=dict)

    def prefetch(self, accounts: Sequence[str]) -> None:
        wanted = sorted({a for a in accounts if a not in self._devices})
        if not wanted:
            return
        for name in wanted:
            self._devices[name] = []
        for device in AccountDirectory(self.session).devices_of(wanted):
            self._devices[device.account].append(device)

    def devices_of(self, accounts: Sequence[str]) -> list[DeviceRecord]:
        """Devices of ``accounts``, ordered by account then device id."""
        self.prefetch(accounts)
        return [d for a in sorted(set(accounts)) for d in self._devices[a]]

    def group(self, group_id: str) -> GroupRecord | None:
        if group_id not in self._groups:
            self._groups[group_id] = GroupDirectory(self.session).get(group_id)
        return self._groups[group_id]


def _group(directory: DirectoryView, envelope: EnvelopeIn, sender: DeviceRecord) -> GroupRecord:
    group_id = envelope.conv.removeprefix("group:")
    if envelope.group is not None and envelope.group.group_id != group_id:
        raise invalid("group.group_id does not match conv")
    group = directory.group(group_id)
    if group is None or sender.account not in group.members:
        raise not_found("no such group")  # non-members cannot probe for groups
    if envelope.group is not None and envelope.group.membership_epoch != group.membership_epoch:
        raise conflict(
            f"membership changed: current epoch is {group.membership_epoch}", "stale_membership"
        )
    return group


def _direct_deliveries(
    directory: DirectoryView,
    envelope: EnvelopeIn,
    sender: DeviceRecord,
    accounts: tuple[str, ...],
) -> list[Delivery]:
    if not envelope.recipients:
        raise invalid("recipients: at least one recipient device is required")
    known = {(d.account, d.id) for d in directory.devices_of(list(accounts))}
    seen: set[tuple[str, str]] = set()
    out: list[Delivery] = []
    for rc in envelope.recipients:
        key = (rc.account, rc.device_id)
        if key in seen:
            raise invalid(f"recipients: {rc.account}/{rc.device_id} listed twice")
        if rc.device_id == sender.id:
            raise invalid("recipients: the sending device cannot be a recipient")
        if key not in known:
            raise not_found(f"recipient device {rc.account}/{rc.device_id} not found")
        seen.add(key)
        out.append(Delivery(rc.device_id, rc.type, _bytes(rc.body, "recipients.body")))
    return out


def dm_accounts(conv: str) -> tuple[str, ...]:
    """The accounts a ``dm:`` conversation names (unchecked: for prefetching only)."""
    return tuple(conv.removeprefix("dm:").split(":")) if conv.startswith("dm:") else ()


def plan(
    session: Session,
    envelope: EnvelopeIn,
    sender: DeviceRecord,
    directory: DirectoryView | None = None,
) -> tuple[list[Delivery], GroupRecord | None, list[str]]:
    """Check the envelope against the directory; return deliveries, group, recipient labels."""
    directory = directory or DirectoryView(session)
    if envelope.kind == "control" and (
        envelope.body or envelope.group_ratchet or envelope.attachments
    ):
        raise invalid("a control message carries only recipients")
    is_group = envelope.conv.startswith("group:")
    group: GroupRecord | None = None
    if is_group:
        group = _group(directory, envelope, sender)
        if envelope.kind == "message":
            if envelope.group is None:
                raise invalid("group: a group message names the membership epoch")
            if not envelope.group_ratchet:
                raise invalid("group_ratchet: a group message carries the Megolm ciphertext")
            if envelope.recipients:
                raise invalid("recipients: group messages go to every member device")
            devices = directory.devices_of(list(group.members))
            deliveries = [Delivery(d.id) for d in devices if d.id != sender.id]
            return deliveries, group, []
        deliveries = _direct_deliveries(directory, envelope, sender, group.members)
    else:
        if envelope.group is not None or envelope.group_ratchet is not None:
            raise invalid("group fields are only for group conversations")
        deliveries = _direct_deliveries(
            directory, envelope, sender, _dm_accounts(envelope.conv, sender.account)
        )
    labels = sorted(f"{r.account}/{r.device_id}" for r in envelope.recipients)
    return deliveries, group, labels


def server_env(
    envelope: EnvelopeIn,
    sender: DeviceRecord,
    server_ts: int,
    body: bytes,
    group: GroupRecord | None,
    labels: list[str],
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "sender": sender.account,
        "sender_device": sender.id,
        "conv": envelope.conv,
        "msg_id": envelope.msg_id,
        "server_ts": server_ts,
        "ct_sha256": hashlib.sha256(body).hexdigest(),
    }
    if group is not None and envelope.kind == "message":
        env["group"] = {
            "group_id": group.id,
            "membership_epoch": group.membership_epoch,
            "members_sha256": members_sha256(group.members),
        }
    else:
        env["recipients"] = labels
    return env


def _receipt_for(previous: Any, digest: str) -> SendReceipt:
    if previous.content_hash != digest:
        raise conflict("msg_id was already used for a different message")
    franking = None
    if previous.franking_kid is not None and previous.franking_tag is not None:
        franking = FrankingTag(kid=previous.franking_kid, tag=b64e(previous.franking_tag))
    return SendReceipt(
        msg_id=previous.msg_id, server_ts=previous.server_ts, duplicate=True, franking=franking
    )


@dataclass(frozen=True)
class Prepared:
    """One envelope checked against the directory, before any hook has run or row is written."""

    ctx: SendContext
    deliveries: list[Delivery]
    body: bytes
    digest: str


def prepare(
    session: Session,
    envelope: EnvelopeIn,
    sender: DeviceRecord,
    digest: str,
    server_ts: int,
    directory: DirectoryView | None = None,
) -> Prepared:
    """Plan the deliveries, check the attachments, build the server's env (typed 4xx on bad
    input; nothing is written)."""
    deliveries, group, labels = plan(session, envelope, sender, directory)
    attachments = AttachmentStore(session)
    for att in envelope.attachments:
        if attachments.readable_by(att, sender.account) is None:
            raise not_found(f"attachment {att} not found")
    body = _bytes(envelope.body, "body") or b""
    env = server_env(envelope, sender, server_ts, body, group, labels)
    ctx = SendContext(
        sender=sender,
        envelope=envelope,
        env=env,
        server_ts=server_ts,
        recipient_devices=tuple(labels),
        group=group,
        session=session,
    )
    return Prepared(ctx, deliveries, body, digest)


def new_message(prepared: Prepared, franking: FrankingTag | None = None) -> NewMessage:
    """The message row of a prepared envelope (after its ``before_accept`` hooks)."""
    ctx, envelope, group = prepared.ctx, prepared.ctx.envelope, prepared.ctx.group
    return NewMessage(
        msg_id=envelope.msg_id,
        sender_account=ctx.sender.account,
        sender_device=ctx.sender.id,
        conv=envelope.conv,
        kind=envelope.kind,
        content_type=envelope.content_type,
        body=prepared.body,
        commitment=_bytes(envelope.commitment, "commitment"),
        escrow=_bytes(envelope.escrow, "escrow"),
        group_id=group.id if group is not None else None,
        membership_epoch=group.membership_epoch if group is not None else None,
        group_ratchet=_bytes(envelope.group_ratchet, "group_ratchet"),
        extensions=dict(envelope.extensions),
        server_ts=ctx.server_ts,
        content_hash=prepared.digest,
        env=ctx.env,
        attachments=tuple(envelope.attachments),
        franking_kid=None if franking is None else franking.kid,
        franking_tag=None if franking is None else b64d(franking.tag),
    )


def accept_envelope(
    session: Session,
    envelope: EnvelopeIn,
    sender: DeviceRecord,
    hooks: HookChain,
    now_ms: Callable[[], int],
    directory: DirectoryView | None = None,
) -> Accepted:
    """Validate, store and enqueue one envelope (idempotent on sender account + msg_id)."""
    digest = content_hash(envelope)
    messages = MessageStore(session)
    previous = messages.find(sender.account, envelope.msg_id)
    if previous is not None:
        return Accepted(_receipt_for(previous, digest), ())
    prepared = prepare(session, envelope, sender, digest, now_ms(), directory)
    ctx = prepared.ctx
    try:
        for hook in hooks.send:
            hook.before_accept(ctx)
    except SendRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from exc
    message_pk, pushes = messages.accept(new_message(prepared), prepared.deliveries)
    receipt = SendReceipt(msg_id=envelope.msg_id, server_ts=ctx.server_ts)
    try:
        for hook in hooks.send:
            receipt = hook.after_accept(ctx, receipt)
    except SendRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from exc
    if receipt.franking is not None:
        messages.set_franking(message_pk, receipt.franking.kid, b64d(receipt.franking.tag))
    return Accepted(receipt, tuple(pushes))


def accept_batch(
    session: Session,
    envelopes: list[EnvelopeIn],
    sender: DeviceRecord,
    hooks: HookChain,
    now_ms: Callable[[], int],
) -> list[Accepted | ApiError]:
    """``accept_envelope`` for each envelope, in order, each in its own savepoint: a refused
    envelope (its ``ApiError`` is returned in its place) rolls back only its own rows."""
    out: list[Accepted | ApiError] = []
    directory = DirectoryView(session)  # devices and groups do not change on the send path
    for envelope in envelopes:
        try:
            with session.begin_nested():
                out.append(accept_envelope(session, envelope, sender, hooks, now_ms, directory))
        except ApiError as exc:
            out.append(exc)
            keep = getattr(exc, "keep_after_rollback", None)
            if callable(keep):  # a refusal's bookkeeping outlives its envelope's rollback
                with session.begin_nested():
                    keep(session, now_ms())
        except IntegrityError as exc:  # lost a race against a concurrent send of this msg_id
            if not is_duplicate_race(exc):
                raise
            previous = MessageStore(session).find(sender.account, envelope.msg_id)
            if previous is None:
                raise
            try:
                out.append(Accepted(_receipt_for(previous, content_hash(envelope)), ()))
            except ApiError as conflict_exc:
                out.append(conflict_exc)
    return out


def is_duplicate_race(exc: IntegrityError) -> bool:
    """True when an insert lost a race against a concurrent send of the same msg_id."""
    text = str(exc.orig).lower()
    return "msg_id" in text or "uq_messages_sender_account" in text
