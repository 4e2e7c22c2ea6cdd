"""Accepted messages and the per-device delivery queue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from fulcrum.store.models import Device, Message, MessageAttachment, QueueEntry
from fulcrum.store.records import AcceptedMessage, Delivery, NewMessage, QueuedMessage


class AckRefused(PermissionError):
    """At least one acked seq is not a pending-or-acked row of the acking device."""


class MessageStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, sender_account: str, msg_id: str) -> AcceptedMessage | None:
        row = self.session.execute(
            select(
                Message.msg_id,
                Message.server_ts,
                Message.content_hash,
                Message.franking_kid,
                Message.franking_tag,
            ).where(Message.sender_account == sender_account, Message.msg_id == msg_id)
        ).first()
        return None if row is None else AcceptedMessage(*row)

    def accept(
        self, message: NewMessage, deliveries: Sequence[Delivery]
    ) -> tuple[int, list[tuple[str, int]]]:
        """Insert the message, its attachment links and one queue row per delivery.

        Returns the message's primary key and ``(device_id, seq)`` for each queue row."""
        message_pk = int(
            self.session.execute(
                insert(Message).returning(Message.id),
                [
                    {
                        "msg_id": message.msg_id,
                        "sender_account": message.sender_account,
                        "sender_device": message.sender_device,
                        "conv": message.conv,
                        "kind": message.kind,
                        "content_type": message.content_type,
                        "body": message.body,
                        "commitment": message.commitment,
                        "escrow": message.escrow,
                        "group_id": message.group_id,
                        "membership_epoch": message.membership_epoch,
                        "group_ratchet": message.group_ratchet,
                        "extensions": message.extensions,
                        "server_ts": message.server_ts,
                        "content_hash": message.content_hash,
                        "env": message.env,
                        "franking_kid": message.franking_kid,
                        "franking_tag": message.franking_tag,
                    }
                ],
            ).scalar_one()
        )
        if message.attachments:
            self.session.execute(
                insert(MessageAttachment),
                [
                    {"message_id": message_pk, "attachment_id": a, "position": i}
                    for i, a in enumerate(message.attachments)
                ],
            )
        pushes: list[tuple[str, int]] = []
        if deliveries:
            result = self.session.execute(
                insert(QueueEntry).returning(
                    QueueEntry.device_id, QueueEntry.seq, sort_by_parameter_order=True
                ),
                [
                    {
                        "device_id": d.device_id,
                        "message_id": message_pk,
                        "ratchet_type": d.ratchet_type,
                        "ratchet_body": d.ratchet_body,
                        "acked": False,
                    }
                    for d in deliveries
                ],
            )
            pushes = [(str(dev), int(seq)) for dev, seq in result]
        return message_pk, pushes

    def set_franking(self, message_pk: int, kid: str, tag: bytes) -> None:
        self.session.execute(
            update(Message)
            .where(Message.id == message_pk)
            .values(franking_kid=kid, franking_tag=tag)
        )


class DeliveryQueue:
    """Per-device store-and-forward queue: rows stay until their own device acks them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def page(self, device_id: str, *, after: int, limit: int) -> tuple[list[QueuedMessage], bool]:
        rows = self.session.execute(
            select(
                QueueEntry.seq,
                Message.kind,
                Message.msg_id,
                Message.conv,
                Message.sender_account,
                Message.sender_device,
                Message.server_ts,
                Message.content_type,
                Message.body,
                QueueEntry.ratchet_type,
                QueueEntry.ratchet_body,
                Message.group_id,
                Message.membership_epoch,
                Message.group_ratchet,
                Message.commitment,
                Message.escrow,
                Message.franking_kid,
                Message.franking_tag,
                Message.env,
                Message.extensions,
                Message.id.label("message_pk"),
            )
            .join(Message, Message.id == QueueEntry.message_id)
            .where(
                QueueEntry.device_id == device_id,
                QueueEntry.acked.is_(False),
                QueueEntry.seq > after,
            )
            .order_by(QueueEntry.seq)
            .limit(limit + 1)
        ).all()
        more = len(rows) > limit
        maps = [r._mapping for r in rows[:limit]]
        links: dict[int, list[str]] = defaultdict(list)
        message_pks = {int(m["message_pk"]) for m in maps}
        if message_pks:
            for mpk, att in self.session.execute(
                select(MessageAttachment.message_id, MessageAttachment.attachment_id)
                .where(MessageAttachment.message_id.in_(message_pks))
                .order_by(MessageAttachment.message_id, MessageAttachment.position)
            ):
                links[int(mpk)].append(str(att))
        items = [
            QueuedMessage(
                seq=m["seq"],
                kind=m["kind"],
                msg_id=m["msg_id"],
                conv=m["conv"],
                sender=m["sender_account"],
                sender_device=m["sender_device"],
                server_ts=m["server_ts"],
                content_type=m["content_type"],
                body=m["body"],
                ratchet_type=m["ratchet_type"],
                ratchet_body=m["ratchet_body"],
                group_id=m["group_id"],
                membership_epoch=m["membership_epoch"],
                group_ratchet=m["group_ratchet"],
                commitment=m["commitment"],
                escrow=m["escrow"],
                franking_kid=m["franking_kid"],
                franking_tag=m["franking_tag"],
                env=m["env"],
                extensions=m["extensions"],
                attachments=tuple(links.get(int(m["message_pk"]), ())),
            )
            for m in maps
        ]
        return items, more

    def ack(self, device_id: str, seqs: Sequence[int]) -> int:
        """Ack all of ``seqs`` or none: any seq that is not this device's row is refused."""
        wanted = set(seqs)
        owned = set(
            self.session.scalars(
                select(QueueEntry.seq).where(
                    QueueEntry.seq.in_(wanted), QueueEntry.device_id == device_id
                )
            )
        )
        if owned != wanted:
            raise AckRefused("some seqs do not belong to this device")
        result = self.session.execute(
            update(QueueEntry)
            .where(QueueEntry.seq.in_(wanted), QueueEntry.acked.is_(False))
            .values(acked=True, ratchet_body=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def pending_count(self, device_id: str) -> int:
        stmt = select(func.count()).where(
            QueueEntry.device_id == device_id, QueueEntry.acked.is_(False)
        )
        return int(self.session.scalar(stmt) or 0)

    def depth(self) -> int:
        return int(
            self.session.scalar(select(func.count()).where(QueueEntry.acked.is_(False))) or 0
        )

    def devices_with(self, seqs: Sequence[int]) -> dict[int, str]:
        rows = self.session.execute(
            select(QueueEntry.seq, Device.id)
            .join(Device, Device.id == QueueEntry.device_id)
            .where(QueueEntry.seq.in_(list(seqs)))
        )
        return {int(s): str(d) for s, d in rows}
