"""The review queue's domain model (no I/O): cases, reviewer actions and roles, the state
machine, queue order, the case store interface, and clearinghouse report drafts."""

from fulcrum.review.actions import (
    TRANSITIONS,
    ActionKind,
    Reviewer,
    ReviewerAction,
    Role,
    allowed_actions,
    apply_action,
    required_role,
)
from fulcrum.review.case import (
    Case,
    CaseKind,
    CaseState,
    EvidenceRef,
    Priority,
    case_for_report,
    priority_for,
)
from fulcrum.review.clearinghouse import (
    ClearinghouseReportDraft,
    IncidentType,
    ReportedFile,
    ReportingPerson,
    VictimInfo,
    clean_text,
)
from fulcrum.review.errors import (
    ActionNotAllowed,
    CaseNotFound,
    DraftError,
    DuplicateCase,
    NotAuthorised,
    ReviewError,
    StaleCase,
)
from fulcrum.review.queue import (
    CaseStore,
    InMemoryCaseStore,
    act,
    queue_for,
    queue_order,
)

__all__ = [
    "TRANSITIONS",
    "ActionKind",
    "ActionNotAllowed",
    "Case",
    "CaseKind",
    "CaseNotFound",
    "CaseState",
    "CaseStore",
    "ClearinghouseReportDraft",
    "DraftError",
    "DuplicateCase",
    "EvidenceRef",
    "InMemoryCaseStore",
    "IncidentType",
    "NotAuthorised",
    "Priority",
    "ReportedFile",
    "ReportingPerson",
    "ReviewError",
    "Reviewer",
    "ReviewerAction",
    "Role",
    "StaleCase",
    "VictimInfo",
    "act",
    "allowed_actions",
    "apply_action",
    "case_for_report",
    "clean_text",
    "priority_for",
    "queue_for",
    "queue_order",
    "required_role",
]
