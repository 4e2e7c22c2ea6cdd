"""Wire models for franking reports and the review queue (v1).

A report body carries the ``fulcrum.franking.AbuseReport`` JSON as ``report`` (its own strict,
canonical encoding is checked by the server); everything else is plain pydantic.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from fulcrum.wire.api import B64, MessageId, WireModel

ReasonText = Literal["child_safety", "terrorism", "harassment", "spam", "other"]
ActionText = Literal["dismiss", "warn", "suspend_sender", "escalate", "close"]
RoleText = Literal["reviewer", "senior", "admin"]

FRANKING_ENV_KEY = "franking"  # the key of the franking envelope inside QueueItem.envelope


class ReportSubmit(WireModel):
    """``report`` is ``AbuseReport.to_json()``; the reporter must be the calling device."""

    report: dict[str, Any]


class MessageVerdictOut(WireModel):
    msg_id: MessageId
    sender: str
    server_ts: int
    chosen: bool
    code: str


class ReportReceipt(WireModel):
    report_id: str
    verified: bool
    items: list[MessageVerdictOut]
    attestation: dict[str, Any] | None = None  # ReportAttestation JSON when verified
    case_id: str


class AttestationKeyOut(WireModel):
    key_id: str
    public_key: B64  # raw Ed25519, base64url


class SentFranking(WireModel):
    """What the relay tagged for one of the caller's own messages (for its own bundle)."""

    msg_id: MessageId
    env: dict[str, Any]
    kid: str
    tag: B64


class CaseSummary(WireModel):
    case_id: str
    kind: str
    priority: int
    status: str
    reason: str
    involves_child: bool
    subject: str
    created_at: int


class CaseList(WireModel):
    cases: list[CaseSummary]


class ReviewedMessage(WireModel):
    msg_id: MessageId
    sender: str
    server_ts: int
    chosen: bool
    verdict: str
    content_type: str
    text: str


class ActionOut(WireModel):
    action: str
    actor: str
    at: int
    note: str = ""


class CaseDetail(WireModel):
    case: CaseSummary
    verified: bool
    attestation: dict[str, Any] | None
    messages: list[ReviewedMessage]
    actions: list[ActionOut]
    clearinghouse_xml: str | None = None
    clearinghouse_status: str | None = None  # filed / failed / retracted / purged; None: draft
    clearinghouse_report_id: str | None = None  # the clearinghouse's id once filed


class CaseActionIn(WireModel):
    action: ActionText
    note: str = Field(default="", max_length=2000)
    viewed_content: bool = True  # the reviewer looked at the reported content itself


class ReportStatsOut(WireModel):
    day: str
    counts: dict[str, int]
    log_index: int | None
