"""Franking and review tables: tag keys and their events, group epochs, reports, cases.

Bodies appear only in ``report_items`` (what a reporter chose to submit); nothing here is
written for a message that was never reported. Tag keys are stored wrapped (AEAD) under a key
that lives in the server's data directory, and the row's secret is erased on destruction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fulcrum.store.models import Base, BigId


class FrankingTagKey(Base):
    __tablename__ = "franking_tag_keys"

    kid: Mapped[str] = mapped_column(String(7), primary_key=True)  # "YYYY-MM"
    wrapped_secret: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once destroyed
    created_at: Mapped[int] = mapped_column(BigInteger)
    destroyed_at: Mapped[int | None] = mapped_column(BigInteger)


class FrankingKeyEvent(Base):
    __tablename__ = "franking_key_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kid: Mapped[str] = mapped_column(String(7), index=True)
    event: Mapped[str] = mapped_column(String(32))  # franking.key_rotated / franking.key_destroyed
    at: Mapped[int] = mapped_column(BigInteger)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)


class FrankingGroupEpoch(Base):
    """The member list of a group at one membership epoch (checked against ``members_hash``)."""

    __tablename__ = "franking_group_epochs"

    group_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    membership_epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    members: Mapped[list[str]] = mapped_column(JSON)


class Report(Base):
    __tablename__ = "reports"

    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reporter_account: Mapped[str] = mapped_column(ForeignKey("accounts.name"), index=True)
    reporter_device: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    involves_child: Mapped[bool] = mapped_column(Boolean)
    verified: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[int] = mapped_column(BigInteger)
    attestation: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReportItem(Base):
    """One submitted message of a report, with its verdict (bodies live only here)."""

    __tablename__ = "report_items"

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.report_id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(22), index=True)
    sender: Mapped[str] = mapped_column(String(32))
    server_ts: Mapped[int] = mapped_column(BigInteger)
    chosen: Mapped[bool] = mapped_column(Boolean)
    verdict: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(128))
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Reviewer(Base):
    __tablename__ = "reviewers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)


class ReviewCase(Base):
    __tablename__ = "review_cases"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    involves_child: Mapped[bool] = mapped_column(Boolean)
    priority: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    subject_account: Mapped[str] = mapped_column(String(32), index=True)
    evidence: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    clearinghouse_xml: Mapped[str | None] = mapped_column(Text)


class ReviewAction(Base):
    __tablename__ = "review_actions"

    case_id: Mapped[str] = mapped_column(ForeignKey("review_cases.case_id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    reviewer_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text)
    viewed_content: Mapped[bool] = mapped_column(Boolean)


class FrankingReportStats(Base):
    """One published day of abuse-report numbers (the ``AbuseReportStats`` log entry)."""

    __tablename__ = "franking_report_stats"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # "YYYY-MM-DD" (UTC)
    log_index: Mapped[int | None] = mapped_column(BigInteger)  # None: no log installed
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    published_at: Mapped[int] = mapped_column(BigInteger)


class ClearinghouseFiling(Base):
    """A clearinghouse report filed (or attempted) for an escalated case.

    ``report_xml`` is what was sent; it, the case and the report it came from are preserved
    until ``retain_until`` (the legal preservation period) and cannot be purged before.
    """

    __tablename__ = "clearinghouse_filings"

    case_id: Mapped[str] = mapped_column(ForeignKey("review_cases.case_id"), primary_key=True)
    clearinghouse: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # filed / failed / retracted / purged
    external_id: Mapped[str | None] = mapped_column(String(64))  # the clearinghouse's report id
    report_xml: Mapped[str | None] = mapped_column(Text)
    report_digest: Mapped[bytes | None] = mapped_column(LargeBinary)
    files: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[int] = mapped_column(BigInteger)
    filed_at: Mapped[int | None] = mapped_column(BigInteger)
    retain_until: Mapped[int | None] = mapped_column(BigInteger)
    log_index: Mapped[int | None] = mapped_column(BigInteger)
