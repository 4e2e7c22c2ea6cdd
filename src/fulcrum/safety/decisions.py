"""Decisions the engine returns: what to do, which rule, why, with the numbers behind it."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

EvidenceValue = str | int | float | bool | None


def _empty() -> Mapping[str, EvidenceValue]:
    return MappingProxyType({})


class Action(enum.StrEnum):
    ALLOW = "allow"  # a rule explicitly permits something it could have refused
    REFUSE = "refuse"  # do not deliver / do not perform
    HIDE = "hide"  # leave out of search, suggestions or contact lists
    SAFETY_NOTICE = "safety_notice"  # show ``notice`` to ``notify``
    QUEUE_REVIEW = "queue_review"  # put ``subject`` in the human review queue with ``priority``
    RESTRICT = "restrict"  # ``subject`` is a suspicious adult: hidden and blocked from minors


class NoticeKind(enum.StrEnum):
    SUSPICIOUS_ADULT = "suspicious_adult"
    MESSAGE_BURST = "message_burst"
    LATE_NIGHT = "late_night"
    FIRST_MEDIA = "first_media"


class ReviewPriority(enum.StrEnum):
    HIGH = "high"
    NORMAL = "normal"


class RuleId(enum.StrEnum):
    BLOCKED = "R0-blocked"
    NO_FIRST_CONTACT = "R1-no-first-contact"
    MINOR_REQUEST_MESSAGE = "R1-minor-request-message"
    NOT_DISCOVERABLE = "R2-not-discoverable"
    MINOR_COMPLAINT = "R3a-minor-complaint"
    FANOUT = "R3b-fanout"
    LOW_ACCEPTANCE = "R3c-low-acceptance"
    NEW_ACCOUNT_MINORS = "R3d-new-account-minors"
    LINKED_BANNED = "R3e-linked-banned"
    CROSS_BORDER_NEW = "R3f-cross-border-new"
    SUSPICIOUS_BLOCK = "R3-blocked-from-minors"
    SUSPICIOUS_HIDE = "R3-hidden-from-minors"
    SUSPICIOUS_REVIEW = "R3-review"
    NOTICE_SUSPICIOUS = "R4a-suspicious-adult-notice"
    NOTICE_BURST = "R4b-burst"
    NOTICE_LATE_NIGHT = "R4c-late-night"
    NOTICE_FIRST_MEDIA = "R4d-first-media"
    GROUP_ADD = "R5-group-add"
    FORWARD_LIMIT = "R6-forward-limit"
    CHILD_REPORT = "R7-child-report"


@dataclass(frozen=True, slots=True)
class Decision:
    """One rule outcome. ``explanation`` is a sentence naming the rule and the numbers; ``evidence``
    holds the observed values and ``thresholds`` the policy values they were compared with."""

    action: Action
    rule_id: RuleId
    explanation: str
    at: float
    subject: str | None = None  # the account the decision is about
    evidence: Mapping[str, EvidenceValue] = field(default_factory=_empty)
    thresholds: Mapping[str, EvidenceValue] = field(default_factory=_empty)
    notify: str | None = None  # SAFETY_NOTICE: the account that sees the notice
    notice: NoticeKind | None = None
    priority: ReviewPriority | None = None  # QUEUE_REVIEW only

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict for audit records and the review queue."""
        data: dict[str, object] = {
            "action": self.action.value,
            "rule_id": self.rule_id.value,
            "explanation": self.explanation,
            "at": self.at,
            "evidence": dict(self.evidence),
            "thresholds": dict(self.thresholds),
        }
        for key in ("subject", "notify", "notice", "priority"):
            value = getattr(self, key)
            if value is not None:
                data[key] = str(value)
        return data


@dataclass(frozen=True, slots=True)
class Criterion:
    """One suspicious-adult criterion (rule 3) that holds, with the numbers behind it."""

    rule_id: RuleId
    explanation: str
    evidence: Mapping[str, EvidenceValue]
    thresholds: Mapping[str, EvidenceValue]
    lapses_at: float  # when it stops holding if nothing new happens (inf: until cleared)


def refused(decisions: list[Decision]) -> bool:
    """True when any decision refuses the action it was asked about."""
    return any(d.action is Action.REFUSE for d in decisions)


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule_id: RuleId
    action: Action
    count: int


@dataclass(frozen=True, slots=True)
class RuleStats:
    """Decision counts per rule and action for whole UTC days ``first_day``..``last_day``
    (day numbers = POSIX seconds // 86400), for the transparency report."""

    first_day: int
    last_day: int
    counts: tuple[RuleCount, ...]

    def get(self, rule_id: RuleId, action: Action) -> int:
        for c in self.counts:
            if c.rule_id is rule_id and c.action is action:
                return c.count
        return 0

    def to_json(self) -> dict[str, object]:
        by_rule: dict[str, dict[str, int]] = {}
        for c in self.counts:
            by_rule.setdefault(c.rule_id.value, {})[c.action.value] = c.count
        return {"first_day": self.first_day, "last_day": self.last_day, "counts": by_rule}
