"""Attachment ciphertexts (kept in the database; see docs/operator-guide.md)."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from fulcrum.store.models import Attachment, Device, MessageAttachment, QueueEntry
from fulcrum.store.records import AttachmentRecord


class AttachmentStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def put(
        self,
        *,
        attachment_id: str,
        uploader_account: str,
        uploader_device: str,
        blob: bytes,
        sha256: str,
        created_at: int,
    ) -> AttachmentRecord:
        self.session.add(
            Attachment(
                id=attachment_id,
                uploader_account=uploader_account,
                uploader_device=uploader_device,
                size=len(blob),
                sha256=sha256,
                created_at=created_at,
                blob=blob,
            )
        )
        self.session.flush()
        return AttachmentRecord(attachment_id, uploader_account, len(blob), sha256)

    def readable_by(self, attachment_id: str, account: str) -> AttachmentRecord | None:
        """The attachment, if ``account`` uploaded it or any of its devices was sent a message
        referencing it; else None (callers answer 404 either way, so existence never leaks)."""
        att = self.session.get(Attachment, attachment_id)
        if att is None:
            return None
        record = AttachmentRecord(att.id, att.uploader_account, att.size, att.sha256)
        if att.uploader_account == account:
            return record
        received = self.session.scalar(
            select(
                exists()
                .where(MessageAttachment.attachment_id == attachment_id)
                .where(QueueEntry.message_id == MessageAttachment.message_id)
                .where(Device.id == QueueEntry.device_id)
                .where(Device.account == account)
            )
        )
        return record if received else None

    def blob(self, attachment_id: str) -> bytes:
        return bytes(
            self.session.scalar(select(Attachment.blob).where(Attachment.id == attachment_id))
            or b""
        )
