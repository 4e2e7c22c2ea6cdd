"""Direct RFC 8785 encoders for ``C(meta)`` and ``C(env)`` (the franking hot path).

``canonical_json`` walks a value to check it can take the standard library's fast path, then
sorts keys. The franked types are already validated (identifiers without control characters or
surrogates, integers within 0..2^53-1, fixed keys), so their canonical bytes can be written
directly: keys in RFC 8785 order (spelled out below), strings escaped by the same C function
``json.dumps(ensure_ascii=False)`` uses. ``tests/unit/franking/test_canon.py`` checks byte
equality with ``canonical_json(to_json())`` over generated values.
"""

from __future__ import annotations

from json.encoder import encode_basestring as _q
from typing import TYPE_CHECKING

from fulcrum.encoding import b64e

if TYPE_CHECKING:
    from fulcrum.franking.envelope import ServerEnvelope
    from fulcrum.franking.meta import AttachmentRef, FrankingMeta


def _attachment(a: AttachmentRef) -> str:
    # key_commit < mime < sha256_plain < size
    return (
        f'{{"key_commit":"{b64e(a.key_commit)}","mime":{_q(a.mime)},'
        f'"sha256_plain":"{b64e(a.sha256_plain)}","size":{a.size}}}'
    )


def meta_canonical(m: FrankingMeta) -> bytes:
    # attachments < client_ts < content_type < conv < forward_count < forwarded < msg_id < prev
    # < reply_to < sender < sender_device < v
    reply = "" if m.reply_to is None else f',"reply_to":"{b64e(m.reply_to)}"'
    text = (
        f'{{"attachments":[{",".join(_attachment(a) for a in m.attachments)}],'
        f'"client_ts":{m.client_ts},"content_type":{_q(m.content_type)},"conv":{_q(m.conv)},'
        f'"forward_count":{m.forward_count},"forwarded":{"true" if m.forwarded else "false"},'
        f'"msg_id":"{b64e(m.msg_id)}","prev":"{b64e(m.prev)}"{reply},'
        f'"sender":{_q(m.sender)},"sender_device":{_q(m.sender_device)},"v":{m.v}}}'
    )
    return text.encode("utf-8")


def env_canonical(e: ServerEnvelope) -> bytes:
    # conv < ct_sha256 < group < msg_id < recipients < sender < sender_device < server_ts
    if e.group is not None:
        g = e.group  # group_id < members_hash < membership_epoch
        audience = (
            f'"group":{{"group_id":{_q(g.group_id)},"members_hash":"{b64e(g.members_hash)}",'
            f'"membership_epoch":{g.membership_epoch}}},"msg_id":"{b64e(e.msg_id)}",'
        )
    else:
        audience = f'"msg_id":"{b64e(e.msg_id)}","recipients":[{",".join(map(_q, e.recipients))}],'
    text = (
        f'{{"conv":{_q(e.conv)},"ct_sha256":"{b64e(e.ct_sha256)}",{audience}'
        f'"sender":{_q(e.sender)},"sender_device":{_q(e.sender_device)},'
        f'"server_ts":{e.server_ts}}}'
    )
    return text.encode("utf-8")
