"""Draft clearinghouse reports in the shape of NCMEC's CyberTipline reporting API.

``report_xml()`` is the ``<report>`` document opened with ``/submit``; ``file_details_xml()`` is the
``<fileDetails>`` document sent after each ``/upload``. Element names and order follow the
published API documentation; this module does not claim schema conformance (validate against the
XSD served at ``/xsd`` before submitting). Built with ``xml.etree``: text is escaped, and characters
that XML 1.0 cannot carry are replaced with U+FFFD.

Rules kept here: files count as viewed by the platform only after a human reviewer recorded
looking at the content; content from private chats is never "publicly available".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from fulcrum.review.actions import ActionKind
from fulcrum.review.case import Case, CaseState
from fulcrum.review.errors import DraftError

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_HEX = re.compile(r"^[0-9a-f]+$")


class IncidentType(Enum):
    CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
    CHILD_SEX_TRAFFICKING = "Child Sex Trafficking"
    CHILD_SEX_TOURISM = "Child Sex Tourism"
    CHILD_SEXUAL_MOLESTATION = "Child Sexual Molestation"
    MISLEADING_DOMAIN_NAME = "Misleading Domain Name"
    MISLEADING_WORDS_OR_IMAGES = "Misleading Words or Digital Images on the Internet"
    ONLINE_ENTICEMENT = "Online Enticement of Children for Sexual Acts"
    UNSOLICITED_OBSCENE_MATERIAL = "Unsolicited Obscene Material Sent to a Child"


@dataclass(frozen=True)
class ReportingPerson:
    """The platform's contact for the clearinghouse (from configuration)."""

    first_name: str
    last_name: str
    email: str


@dataclass(frozen=True)
class ReportedFile:
    file_name: str
    sha256_hex: str
    md5_hex: str | None = None

    def __post_init__(self) -> None:
        if len(self.sha256_hex) != 64 or not _HEX.match(self.sha256_hex):
            raise DraftError("sha256_hex must be 64 lowercase hex digits")
        if self.md5_hex is not None and (len(self.md5_hex) != 32 or not _HEX.match(self.md5_hex)):
            raise DraftError("md5_hex must be 32 lowercase hex digits")


@dataclass(frozen=True)
class VictimInfo:
    esp_identifier: str
    age: int | None = None


def clean_text(text: str) -> str:
    """Text XML 1.0 can carry (escaping of <, &, quotes is left to the serialiser)."""
    return _NOT_XML.sub("\ufffd", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: clean_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = clean_text(text)
    return el


def _time(when: datetime) -> str:
    if when.tzinfo is None:
        raise DraftError("incident time must be timezone-aware")
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _serialise(root: ET.Element) -> bytes:
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


@dataclass(frozen=True)
class ClearinghouseReportDraft:
    case: Case
    incident_type: IncidentType
    incident_at: datetime
    platform_name: str
    reporter: ReportingPerson
    files: tuple[ReportedFile, ...] = ()
    victim: VictimInfo | None = None
    additional_info: str | None = None

    def __post_init__(self) -> None:
        escalated = any(a.kind is ActionKind.ESCALATE_CLEARINGHOUSE for a in self.case.history)
        if self.case.state is not CaseState.ESCALATED and not escalated:
            raise DraftError("only cases escalated to the clearinghouse can be drafted")
        _time(self.incident_at)

    @property
    def viewed_by_platform(self) -> bool:
        return self.case.content_viewed_by_human

    def report_xml(self) -> bytes:
        root = ET.Element("report")
        summary = _sub(root, "incidentSummary")
        _sub(summary, "incidentType", self.incident_type.value)
        _sub(summary, "platform", self.platform_name)
        _sub(summary, "incidentDateTime", _time(self.incident_at))
        chat = _sub(_sub(root, "internetDetails"), "chatImIncident")
        _sub(chat, "chatClient", self.platform_name)
        _sub(
            chat,
            "additionalInfo",
            "End-to-end encrypted private chat; reported content "
            "verified by message franking where a report attestation is listed.",
        )
        person = _sub(_sub(root, "reporter"), "reportingPerson")
        _sub(person, "firstName", self.reporter.first_name)
        _sub(person, "lastName", self.reporter.last_name)
        _sub(person, "email", self.reporter.email)
        reported = _sub(root, "personOrUserReported")
        _sub(reported, "espIdentifier", self.case.subject_account)
        _sub(reported, "espService", self.platform_name)
        _sub(reported, "screenName", self.case.subject_account)
        if self.victim is not None:
            victim = _sub(root, "victim")
            victim_person = _sub(victim, "victimPerson")
            if self.victim.age is not None:
                _sub(victim_person, "age", str(self.victim.age))
            _sub(victim, "espIdentifier", self.victim.esp_identifier)
            _sub(victim, "espService", self.platform_name)
        info = [f"case {self.case.case_id}"]
        info += [f"{e.kind} {e.ref}" for e in self.case.evidence]
        if self.additional_info:
            info.append(self.additional_info)
        _sub(root, "additionalInfo", "; ".join(info))
        return _serialise(root)

    def file_details_xml(self, file: ReportedFile, *, report_id: str, file_id: str) -> bytes:
        """The ``<fileDetails>`` for one uploaded file (ids come from the clearinghouse)."""
        if file not in self.files:
            raise DraftError("that file is not part of this draft")
        root = ET.Element("fileDetails")
        _sub(root, "reportId", report_id)
        _sub(root, "fileId", file_id)
        _sub(root, "originalFileName", file.file_name)
        _sub(root, "fileViewedByEsp", "true" if self.viewed_by_platform else "false")
        _sub(root, "publiclyAvailable", "false")
        _sub(root, "originalFileHash", file.sha256_hex, hashType="SHA256")
        if file.md5_hex is not None:
            _sub(root, "originalFileHash", file.md5_hex, hashType="MD5")
        return _serialise(root)
