"""Minor protection without message content (design note 07): a metadata-only rules engine.

No I/O and no clock: times are POSIX seconds passed in. Events carry account ids, times and flags,
never message content. Thresholds come from a typed policy (``default-policy.toml``).
"""

from fulcrum.safety.ages import AgeBand, age_band, effective_band
from fulcrum.safety.decisions import (
    Action,
    Criterion,
    Decision,
    NoticeKind,
    ReviewPriority,
    RuleCount,
    RuleId,
    RuleStats,
    refused,
)
from fulcrum.safety.discovery import Surface
from fulcrum.safety.engine import SafetyEngine
from fulcrum.safety.errors import PolicyError, SafetyError, SafetyInputError
from fulcrum.safety.events import (
    EVENT_TYPES,
    AccountBanned,
    AccountCreated,
    AccountLinked,
    BanReason,
    Blocked,
    ContactAccepted,
    ContactDeclined,
    ContactRequested,
    GroupMemberAdded,
    LinkKind,
    MessageSent,
    Reported,
    SafetyEvent,
)
from fulcrum.safety.nudity import (
    BlurDecision,
    NoDetector,
    NudityDetector,
    SkinToneDetector,
    blur_for_minor,
)
from fulcrum.safety.policy import SafetyPolicy, default_policy, parse_policy, policy_from_mapping
from fulcrum.safety.store import InMemorySafetyStore, SafetyStore
from fulcrum.safety.suspicion import SuspicionStatus

__all__ = [
    "EVENT_TYPES",
    "AccountBanned",
    "AccountCreated",
    "AccountLinked",
    "Action",
    "AgeBand",
    "BanReason",
    "Blocked",
    "BlurDecision",
    "ContactAccepted",
    "ContactDeclined",
    "ContactRequested",
    "Criterion",
    "Decision",
    "GroupMemberAdded",
    "InMemorySafetyStore",
    "LinkKind",
    "MessageSent",
    "NoDetector",
    "NoticeKind",
    "NudityDetector",
    "PolicyError",
    "Reported",
    "ReviewPriority",
    "RuleCount",
    "RuleId",
    "RuleStats",
    "SafetyEngine",
    "SafetyError",
    "SafetyEvent",
    "SafetyInputError",
    "SafetyPolicy",
    "SafetyStore",
    "SkinToneDetector",
    "Surface",
    "SuspicionStatus",
    "age_band",
    "blur_for_minor",
    "default_policy",
    "effective_band",
    "parse_policy",
    "policy_from_mapping",
    "refused",
]
