"""Accepted messages and the per-device delivery queue.

The hot path (find, accept, page, ack) runs SQLAlchemy Core statements on the mapped tables: no
ORM objects, no unit-of-work bookkeeping, one ``executemany`` for the queue rows of a message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from fulcrum.store.models import Attachment, Device, Message, MessageAttachment, QueueEntry
from fulcrum.store.records import AcceptedMessage, Delivery, NewMessage, QueuedMessage

MESSAGES = cast(Table, Message.__table__)
QUEUE = cast(Table, QueueEntry.__table__)
LINKS = cast(Table, MessageAttachment.__table__)
ATTACHMENTS = cast(Table, Attachment.__table__)


class AckRefused(PermissionError):
    """At least one acked seq is not a pending-or-acked row of the acking device."""


def _message_row(message: NewMessage) -> dict[str, Any]:
    return {
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


_FIND = select(
    MESSAGES.c.msg_id,
    MESSAGES.c.server_ts,
    MESSAGES.c.content_hash,
    MESSAGES.c.franking_kid,
    MESSAGES.c.franking_tag,
)
_INSERT_MESSAGE = insert(MESSAGES).returning(MESSAGES.c.id)
# Multi-row forms: RETURNING carries the natural keys, so the rows can come back in any order
# (asking SQLAlchemy for parameter order makes it insert row by row on SQLite).
_INSERT_MESSAGES = insert(MESSAGES).returning(
    MESSAGES.c.id, MESSAGES.c.sender_account, MESSAGES.c.msg_id
)
_INSERT_QUEUE_ROWS = insert(QUEUE).returning(QUEUE.c.seq, QUEUE.c.message_id, QUEUE.c.device_id)
_INSERT_QUEUE = insert(QUEUE).returning(
    QUEUE.c.device_id, QUEUE.c.seq, sort_by_parameter_order=True
)
_SET_FRANKING = update(MESSAGES)


def _by_seq(pair: tuple[str, int]) -> int:
    return pair[1]


class MessageStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, sender_account: str, msg_id: str) -> AcceptedMessage | None:
        row = self.session.execute(
            _FIND.where(MESSAGES.c.sender_account == sender_account, MESSAGES.c.msg_id == msg_id)
        ).first()
        return None if row is None else AcceptedMessage(*row)

    def find_many(self, sender_account: str, msg_ids: Sequence[str]) -> dict[str, AcceptedMessage]:
        """``find`` for many message ids of one sender, in one SELECT."""
        if not msg_ids:
            return {}
        rows = self.session.execute(
            _FIND.where(
                MESSAGES.c.sender_account == sender_account, MESSAGES.c.msg_id.in_(set(msg_ids))
            )
        )
        return {str(r[0]): AcceptedMessage(*r) for r in rows}

    def accept_many(
        self, accepted: Sequence[tuple[NewMessage, Sequence[Delivery]]]
    ) -> list[list[tuple[str, int]]]:
        """``accept`` for many messages: one multi-row INSERT for the messages, one for their
        attachment links and one for all their queue rows. Returns, per message in order, the
        ``(device_id, seq)`` of its queue rows."""
        if not accepted:
            return []
        result = self.session.execute(_INSERT_MESSAGES, [_message_row(m) for m, _ in accepted])
        by_key = {(str(a), str(m)): int(pk) for pk, a, m in result}
        pks = [by_key[(m.sender_account, m.msg_id)] for m, _ in accepted]
        links = [
            {"message_id": pk, "attachment_id": a, "position": i}
            for pk, (m, _) in zip(pks, accepted, strict=True)
            for i, a in enumerate(m.attachments)
        ]
        if links:
            self.session.execute(insert(LINKS), links)
        rows = [
            {
                "device_id": d.device_id,
                "message_id": pk,
                "ratchet_type": d.ratchet_type,
                "ratchet_body": d.ratchet_body,
                "acked": False,
            }
            for pk, (_, deliveries) in zip(pks, accepted, strict=True)
            for d in deliveries
        ]
        if not rows:
            return [[] for _ in accepted]
        seqs: dict[tuple[int, str], list[int]] = defaultdict(list)
        for seq, message_pk, dev in self.session.execute(_INSERT_QUEUE_ROWS, rows):
            seqs[(int(message_pk), str(dev))].append(int(seq))
        out: list[list[tuple[str, int]]] = []
        for pk, (_, deliveries) in zip(pks, accepted, strict=True):
            devices = {d.device_id for d in deliveries}
            got = sorted((seq, dev) for dev in devices for seq in seqs[(pk, dev)])
            out.append([(dev, seq) for seq, dev in got])
        return out

    def accept(
        self, message: NewMessage, deliveries: Sequence[Delivery]
    ) -> tuple[int, list[tuple[str, int]]]:
        """Insert the message, its attachment links and one queue row per delivery.

        Returns the message's primary key and ``(device_id, seq)`` for each queue row."""
        message_pk = int(self.session.execute(_INSERT_MESSAGE, _message_row(message)).scalar_one())
        if message.attachments:
            self.session.execute(
                insert(LINKS),
                [
                    {"message_id": message_pk, "attachment_id": a, "position": i}
                    for i, a in enumerate(message.attachments)
                ],
            )
        if not deliveries:
            return message_pk, []
        rows = [
            {
                "device_id": d.device_id,
                "message_id": message_pk,
                "ratchet_type": d.ratchet_type,
                "ratchet_body": d.ratchet_body,
                "acked": False,
            }
            for d in deliveries
        ]
        if len(rows) == 1:  # the common 1:1 case: a plain INSERT ... RETURNING
            dev, seq = self.session.execute(_INSERT_QUEUE, rows[0]).one()
            return message_pk, [(str(dev), int(seq))]
        result = self.session.execute(_INSERT_QUEUE_ROWS, rows)  # one multi-row statement
        return message_pk, sorted(((str(dev), int(seq)) for seq, _, dev in result), key=_by_seq)

    def set_franking(self, message_pk: int, kid: str, tag: bytes) -> None:
        self.session.execute(
            _SET_FRANKING.where(MESSAGES.c.id == message_pk).values(
                franking_kid=kid, franking_tag=tag
            )
        )


_PAGE = (
    select(
        QUEUE.c.seq,
        MESSAGES.c.kind,
        MESSAGES.c.msg_id,
        MESSAGES.c.conv,
        MESSAGES.c.sender_account,
        MESSAGES.c.sender_device,
        MESSAGES.c.server_ts,
        MESSAGES.c.content_type,
        MESSAGES.c.body,
        QUEUE.c.ratchet_type,
        QUEUE.c.ratchet_body,
        MESSAGES.c.group_id,
        MESSAGES.c.membership_epoch,
        MESSAGES.c.group_ratchet,
        MESSAGES.c.commitment,
        MESSAGES.c.escrow,
        MESSAGES.c.franking_kid,
        MESSAGES.c.franking_tag,
        MESSAGES.c.env,
        MESSAGES.c.extensions,
        MESSAGES.c.id,
    )
    .join(MESSAGES, MESSAGES.c.id == QUEUE.c.message_id)
    .order_by(QUEUE.c.seq)
)


class DeliveryQueue:
    """Per-device store-and-forward queue: rows stay until their own device acks them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def page(self, device_id: str, *, after: int, limit: int) -> tuple[list[QueuedMessage], bool]:
        rows = self.session.execute(
            _PAGE.where(
                QUEUE.c.device_id == device_id,
                QUEUE.c.acked.is_(False),
                QUEUE.c.seq > after,
            ).limit(limit + 1)
        ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        links: dict[int, list[str]] = defaultdict(list)
        message_pks = {int(r[20]) for r in rows}
        if message_pks:
            for mpk, att in self.session.execute(
                select(LINKS.c.message_id, LINKS.c.attachment_id)
                .where(LINKS.c.message_id.in_(message_pks))
                .order_by(LINKS.c.message_id, LINKS.c.position)
            ):
                links[int(mpk)].append(str(att))
        items = [
            QueuedMessage(
                seq=r[0],
                kind=r[1],
                msg_id=r[2],
                conv=r[3],
                sender=r[4],
                sender_device=r[5],
                server_ts=r[6],
                content_type=r[7],
                body=r[8],
                ratchet_type=r[9],
                ratchet_body=r[10],
                group_id=r[11],
                membership_epoch=r[12],
                group_ratchet=r[13],
                commitment=r[14],
                escrow=r[15],
                franking_kid=r[16],
                franking_tag=r[17],
                env=r[18],
                extensions=r[19],
                attachments=tuple(links.get(int(r[20]), ())),
            )
            for r in rows
        ]
        return items, more

    def ack(self, device_id: str, seqs: Sequence[int]) -> int:
        """Ack all of ``seqs`` or none: any seq that is not this device's row is refused."""
        wanted = set(seqs)
        owned = set(
            self.session.scalars(
                select(QUEUE.c.seq).where(QUEUE.c.seq.in_(wanted), QUEUE.c.device_id == device_id)
            )
        )
        if owned != wanted:
            raise AckRefused("some seqs do not belong to this device")
        result = self.session.execute(
            update(QUEUE)
            .where(QUEUE.c.seq.in_(wanted), QUEUE.c.acked.is_(False))
            .values(acked=True, ratchet_body=None)
        )
        self._scrub_delivered(wanted)
        return int(getattr(result, "rowcount", 0) or 0)

    def _scrub_delivered(self, seqs: set[int]) -> None:
        """Once every device has acked a message, drop its ciphertexts (body, Megolm ciphertext,
        escrow field) and those of attachments no undelivered message still needs. What stays is
        routing metadata for idempotency and report verification (msg id, envelope, franking
        commitment and tag). Ciphertexts kept for an active warrant live in the access feature's
        own retention tables, copied at send time."""
        touched = select(QUEUE.c.message_id).where(QUEUE.c.seq.in_(seqs)).scalar_subquery()
        pending = (
            select(QUEUE.c.message_id)
            .where(QUEUE.c.message_id.in_(touched), QUEUE.c.acked.is_(False))
            .scalar_subquery()
        )
        done = [
            int(m)
            for m in self.session.scalars(
                select(MESSAGES.c.id).where(
                    MESSAGES.c.id.in_(touched), MESSAGES.c.id.not_in(pending)
                )
            )
        ]
        if not done:
            return
        self.session.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id.in_(done))
            .values(body=b"", group_ratchet=None, escrow=None)
        )
        linked = sorted(
            {
                str(a)
                for a in self.session.scalars(
                    select(LINKS.c.attachment_id).where(LINKS.c.message_id.in_(done))
                )
            }
        )
        if not linked:  # the common case: no attachments, no attachment statement
            return
        still_needed = (
            select(LINKS.c.attachment_id)
            .join(QUEUE, QUEUE.c.message_id == LINKS.c.message_id)
            .where(LINKS.c.attachment_id.in_(linked), QUEUE.c.acked.is_(False))
            .scalar_subquery()
        )
        self.session.execute(
            update(ATTACHMENTS)
            .where(ATTACHMENTS.c.id.in_(linked), ATTACHMENTS.c.id.not_in(still_needed))
            .values(blob=b"")
        )

    def pending_count(self, device_id: str) -> int:
        stmt = select(func.count()).where(QUEUE.c.device_id == device_id, QUEUE.c.acked.is_(False))
        return int(self.session.scalar(stmt) or 0)

    def depth(self) -> int:
        return int(self.session.scalar(select(func.count()).where(QUEUE.c.acked.is_(False))) or 0)

    def devices_with(self, seqs: Sequence[int]) -> dict[int, str]:
        rows = self.session.execute(
            select(QueueEntry.seq, Device.id)
            .join(Device, Device.id == QueueEntry.device_id)
            .where(QueueEntry.seq.in_(list(seqs)))
        )
        return {int(s): str(d) for s, d in rows}
