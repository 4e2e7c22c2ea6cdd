"""handover.xml: the records mapped to ETSI TS 103 120 / TS 103 707-style delivery fields.

This is NOT a conformance claim: the element names follow the concepts of those specifications
(an HI-1 style header with sender, receiver, transaction id and timestamp; per-record target
identifier, direction, originator, recipients, timestamps, content and attachment references) in
our own namespace, without the official schemas. The mapping table is in docs/evidence.md.
Text that XML 1.0 cannot carry (control characters) is replaced with U+FFFD; the exact body is in
messages.json and its SHA-256 is given in each record.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # building XML only; never parses input
from collections.abc import Sequence

from fulcrum.evidence.records import EvidenceCase, EvidenceMessage, iso_ms
from fulcrum.evidence.render import ordered

NAMESPACE = "urn:fulcrum:evidence:handover:v1"
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    return _INVALID_XML.sub("\ufffd", value)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def render_handover(case: EvidenceCase, messages: Sequence[EvidenceMessage]) -> bytes:
    root = ET.Element("HandoverDelivery", {"xmlns": NAMESPACE, "conformance": "none"})
    header = _sub(root, "Header")
    _sub(header, "SenderIdentifier", case.platform)
    _sub(header, "ReceiverIdentifier", case.recipient)
    _sub(header, "TransactionIdentifier", case.case_id)
    _sub(header, "Timestamp", iso_ms(case.exported_at * 1000))
    _sub(header, "AuthorisationReference", case.warrant_id)
    _sub(header, "RequestingAgency", case.agency)
    records = _sub(root, "Records", count=str(len(messages)))
    for m in ordered(messages):
        rec = _sub(records, "MessagingRecord", id=m.msg_id, status=m.status)
        _sub(rec, "TargetIdentifier", m.target, type="account")
        _sub(rec, "Direction", "fromTarget" if m.direction == "from-target" else "toTarget")
        _sub(rec, "ConversationIdentifier", m.conv)
        _sub(rec, "Originator", m.sender, device=m.sender_device)
        recipients = _sub(rec, "Recipients")
        for account, device in m.recipients:
            _sub(recipients, "Recipient", account, device=device)
        _sub(rec, "PlatformTimestamp", iso_ms(m.server_ts))
        _sub(rec, "ClientTimestamp", iso_ms(m.client_ts))
        if m.status == "decrypted":
            _sub(rec, "MessageContent", m.body or "", sha256=m.body_sha256 or "")
        else:
            _sub(rec, "Failure", m.failure or "")
        if m.reply_to:
            _sub(rec, "InReplyTo", m.reply_to)
        if m.forwarded:
            _sub(rec, "Forwarded", "true")
        for a in m.attachments:
            _sub(rec, "AttachmentReference", f"attachments/{a.sha256_hex}",
                 filename=a.filename, contentType=a.content_type, sha256=a.sha256_hex,
                 md5=a.md5_hex, size=str(len(a.data)))  # fmt: skip
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
        root, encoding="unicode"
    ).encode("utf-8")
