"""Lawful access under a warrant: judge-signed warrants, salted log commitments, composable scope
and quota policies, independent trustee decisions, scoped decryption requests that trustees check
against a witness-cosigned log before issuing partials, notification deadlines, and the lifecycle
that produces a log entry at every step. Protocol code: no I/O, time is a parameter.
See docs/warrants.md.
"""

from fulcrum.access.commitment import (
    ACCESS_GRACE,
    WarrantOpening,
    access_expires_at,
    target_commitment,
    verify_opening,
    warrant_digest,
)
from fulcrum.access.completion import access_completed_entry, open_request
from fulcrum.access.decision import TrusteeDecision, decide, find_registration
from fulcrum.access.errors import (
    AccessError,
    JudgeSignatureError,
    LifecycleError,
    NotificationError,
    RequestRefused,
    WarrantFormatError,
)
from fulcrum.access.lifecycle import Stage, WarrantCase
from fulcrum.access.notification import (
    DueNotification,
    NotificationExtension,
    due_notifications,
    notification_cap,
    notify_at,
    sign_extension,
)
from fulcrum.access.policy import (
    AgencyMessageQuota,
    AgencyWarrantQuota,
    AllOf,
    AnyOf,
    MaxBackDays,
    MaxForwardDays,
    MaxMessages,
    MaxTargets,
    Refusal,
    RetrospectiveAllowed,
    ScopePolicy,
    SpecialCategories,
    default_policy,
)
from fulcrum.access.quota import AccessUsage
from fulcrum.access.request import (
    DecryptionRequest,
    LoggedRequest,
    LogTrust,
    RequestItem,
    answer_request,
    check_request,
    issue_request_partials,
    partials_entry,
)
from fulcrum.access.warrant import (
    DAY as DAY_SECONDS,
)
from fulcrum.access.warrant import (
    DEFAULT_NOTIFY_DELAY,
    NOTIFY_HARD_CAP,
    SPECIAL_CATEGORIES,
    JudgeKey,
    SignedWarrant,
    Warrant,
    judge_keys_from_log,
    parse_warrant_id,
    sign_warrant,
    verify_judge_signature,
    verify_warrant,
    warrant_id_for,
)

__all__ = [
    "ACCESS_GRACE",
    "DAY_SECONDS",
    "DEFAULT_NOTIFY_DELAY",
    "NOTIFY_HARD_CAP",
    "SPECIAL_CATEGORIES",
    "AccessError",
    "AccessUsage",
    "AgencyMessageQuota",
    "AgencyWarrantQuota",
    "AllOf",
    "AnyOf",
    "DecryptionRequest",
    "DueNotification",
    "JudgeKey",
    "JudgeSignatureError",
    "LifecycleError",
    "LogTrust",
    "LoggedRequest",
    "MaxBackDays",
    "MaxForwardDays",
    "MaxMessages",
    "MaxTargets",
    "NotificationError",
    "NotificationExtension",
    "Refusal",
    "RequestItem",
    "RequestRefused",
    "RetrospectiveAllowed",
    "ScopePolicy",
    "SignedWarrant",
    "SpecialCategories",
    "Stage",
    "TrusteeDecision",
    "Warrant",
    "WarrantCase",
    "WarrantFormatError",
    "WarrantOpening",
    "access_completed_entry",
    "access_expires_at",
    "answer_request",
    "check_request",
    "decide",
    "default_policy",
    "due_notifications",
    "find_registration",
    "issue_request_partials",
    "judge_keys_from_log",
    "notification_cap",
    "notify_at",
    "open_request",
    "parse_warrant_id",
    "partials_entry",
    "sign_extension",
    "sign_warrant",
    "target_commitment",
    "verify_judge_signature",
    "verify_opening",
    "verify_warrant",
    "warrant_digest",
    "warrant_id_for",
]
