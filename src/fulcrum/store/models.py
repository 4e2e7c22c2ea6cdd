"""The relay's tables (SQLAlchemy 2 typed ORM).

Nothing here ever holds plaintext: message bodies, ratchet payloads and attachments are the
ciphertexts clients upload; bearer tokens are kept only as SHA-256 hashes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column

# A big integer that is still SQLite's INTEGER PRIMARY KEY (rowid alias, autoincrementing).
BigId = BigInteger().with_variant(Integer, "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[int] = mapped_column(BigInteger)  # ms since the epoch
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(ForeignKey("accounts.name"), index=True)
    identity_key: Mapped[str] = mapped_column(String(100))
    signing_key: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the token
    created_at: Mapped[int] = mapped_column(BigInteger)


class OneTimeKey(Base):
    __tablename__ = "one_time_keys"
    __table_args__ = (
        UniqueConstraint("device_id", "key_id"),
        Index("ix_one_time_keys_unclaimed", "device_id", "claimed", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    key_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(100))
    claimed: Mapped[bool] = mapped_column(Boolean, default=False)


class FallbackKey(Base):
    __tablename__ = "fallback_keys"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(100))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("sender_account", "msg_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    msg_id: Mapped[str] = mapped_column(String(22))
    sender_account: Mapped[str] = mapped_column(ForeignKey("accounts.name"))
    sender_device: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    conv: Mapped[str] = mapped_column(String(90))
    kind: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)  # ciphertext
    commitment: Mapped[bytes | None] = mapped_column(LargeBinary)
    escrow: Mapped[bytes | None] = mapped_column(LargeBinary)
    group_id: Mapped[str | None] = mapped_column(String(48))
    membership_epoch: Mapped[int | None] = mapped_column(Integer)
    group_ratchet: Mapped[bytes | None] = mapped_column(LargeBinary)  # Megolm ciphertext
    extensions: Mapped[dict[str, Any]] = mapped_column(JSON)
    server_ts: Mapped[int] = mapped_column(BigInteger)
    content_hash: Mapped[str] = mapped_column(String(64))  # idempotency: same msg_id, same content
    env: Mapped[dict[str, Any]] = mapped_column(JSON)
    franking_kid: Mapped[str | None] = mapped_column(String(64))
    franking_tag: Mapped[bytes | None] = mapped_column(LargeBinary)


class QueueEntry(Base):
    """One delivery of one message to one device; it is acked only by that device."""

    __tablename__ = "queue"
    __table_args__ = (Index("ix_queue_device_pending", "device_id", "acked", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    ratchet_type: Mapped[int | None] = mapped_column(Integer)
    ratchet_body: Mapped[bytes | None] = mapped_column(LargeBinary)  # Olm ciphertext, per device
    acked: Mapped[bool] = mapped_column(Boolean, default=False)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    uploader_account: Mapped[str] = mapped_column(ForeignKey("accounts.name"), index=True)
    uploader_device: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    blob: Mapped[bytes] = deferred(mapped_column(LargeBinary))  # ciphertext, loaded on demand


class MessageAttachment(Base):
    __tablename__ = "message_attachments"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    attachment_id: Mapped[str] = mapped_column(
        ForeignKey("attachments.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    membership_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(ForeignKey("accounts.name"))
    created_at: Mapped[int] = mapped_column(BigInteger)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    account: Mapped[str] = mapped_column(ForeignKey("accounts.name"), primary_key=True, index=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
