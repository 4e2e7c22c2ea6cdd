"""End-to-end encryption core: vodozemac Olm/Megolm behind a small interface, plus the
content-key layer that gives franking, escrow and media matching one key per message.

No I/O: bytes and time in, bytes out. Megolm stays behind ``GroupSender``/``GroupReceiver`` so that
MLS can replace it later without touching callers.
"""

from fulcrum.e2ee.content import (
    AttachmentKey,
    SealedAttachment,
    open_attachment,
    open_body,
    pack_body,
    seal_attachment,
    seal_body,
    unpack_body,
)
from fulcrum.e2ee.device import DeviceAccount, OlmCiphertext
from fulcrum.e2ee.errors import DecryptionFailed, E2EEError, MalformedPayload, ReplayedMessage
from fulcrum.e2ee.groups import GroupReceiver, GroupSender, RotationPolicy
from fulcrum.e2ee.payload import MessageHeader, RatchetPayload
from fulcrum.e2ee.sessions import OlmSessions

__all__ = [
    "AttachmentKey",
    "DecryptionFailed",
    "DeviceAccount",
    "E2EEError",
    "GroupReceiver",
    "GroupSender",
    "MalformedPayload",
    "MessageHeader",
    "OlmCiphertext",
    "OlmSessions",
    "RatchetPayload",
    "ReplayedMessage",
    "RotationPolicy",
    "SealedAttachment",
    "open_attachment",
    "open_body",
    "pack_body",
    "seal_attachment",
    "seal_body",
    "unpack_body",
]
