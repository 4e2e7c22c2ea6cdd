"""Storage: SQLAlchemy 2 models, small repositories over a session, Alembic migrations.

Every repository takes a ``Session`` so a route can compose several of them in one transaction
(``Database.write()``). SQLite (WAL) is the embedded default; PostgreSQL is selected by URL.
"""

from fulcrum.store.accounts import AccountDirectory
from fulcrum.store.attachments import AttachmentStore
from fulcrum.store.database import Database, StoreError, is_sqlite, make_engine, upgrade
from fulcrum.store.groups import GroupDirectory
from fulcrum.store.keys import KeyDirectory
from fulcrum.store.messages import AckRefused, DeliveryQueue, MessageStore
from fulcrum.store.records import (
    AcceptedMessage,
    AttachmentRecord,
    ClaimedKeyRecord,
    Delivery,
    DeviceRecord,
    GroupRecord,
    NewMessage,
    QueuedMessage,
)

__all__ = [
    "AcceptedMessage",
    "AccountDirectory",
    "AckRefused",
    "AttachmentRecord",
    "AttachmentStore",
    "ClaimedKeyRecord",
    "Database",
    "Delivery",
    "DeliveryQueue",
    "DeviceRecord",
    "GroupDirectory",
    "GroupRecord",
    "KeyDirectory",
    "MessageStore",
    "NewMessage",
    "QueuedMessage",
    "StoreError",
    "is_sqlite",
    "make_engine",
    "upgrade",
]
