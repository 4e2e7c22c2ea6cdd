"""Typed, validated minor-protection policy, parsed from TOML.

``parse_policy(text)`` reads a policy document (``default-policy.toml`` shows every setting with its
default); keys left out keep their defaults, unknown keys, wrong types and out-of-range values raise
``PolicyError`` naming the field. ``default_policy()`` loads the packaged default file.
"""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from types import MappingProxyType
from typing import Any, get_type_hints

from fulcrum.safety.errors import PolicyError

POLICY_VERSION = 1


class UnknownAgeTreatment(enum.StrEnum):
    MINOR = "minor"
    YOUNG_MINOR = "young_minor"
    ADULT = "adult"


class AdultRequestMode(enum.StrEnum):
    REFUSE = "refuse"
    ALLOW = "allow"


class ReportPriority(enum.StrEnum):
    HIGH = "high"
    NORMAL = "normal"


@dataclass(frozen=True)
class AgePolicy:
    adult_age: int = 18
    young_minor_age: int = 16
    unknown_age_treated_as: UnknownAgeTreatment = UnknownAgeTreatment.MINOR


@dataclass(frozen=True)
class FirstContactPolicy:
    adult_requests_to_minors: AdultRequestMode = AdultRequestMode.REFUSE
    minor_request_messages: int = 1
    minor_request_message_media: bool = False


@dataclass(frozen=True)
class DiscoveryPolicy:
    minors_suggested_to_minors_with_mutual_contacts: bool = False


@dataclass(frozen=True)
class SuspiciousAdultPolicy:
    complaint_window_days: float = 30
    fanout_day_hours: float = 24
    fanout_day_threshold: int = 5
    fanout_week_days: float = 7
    fanout_week_threshold: int = 10
    acceptance_window_days: float = 30
    acceptance_min_requests: int = 5
    acceptance_min_rate: float = 0.2
    acceptance_pending_days: float = 3
    new_account_days: float = 7
    new_account_min_contacts: int = 3
    new_account_minor_share: float = 0.5
    cross_border_account_days: float = 30
    adult_mutual_contact_exempts: bool = True
    review_min_criteria: int = 2
    notice_cooldown_days: float = 30


def _no_offsets() -> MappingProxyType[str, int]:
    return MappingProxyType({})


@dataclass(frozen=True)
class NoticePolicy:
    new_contact_days: float = 14
    burst_messages: int = 20
    burst_window_minutes: float = 10
    late_night_start_hour: int = 23
    late_night_end_hour: int = 6
    young_minor_late_night_start_hour: int = 22
    new_media_contact_hours: float = 72
    young_minor_new_media_contact_hours: float = 168
    notice_cooldown_hours: float = 24
    default_utc_offset_minutes: int = 0
    country_utc_offset_minutes: MappingProxyType[str, int] = field(default_factory=_no_offsets)


@dataclass(frozen=True)
class GroupPolicy:
    minors_added_by_connections_or_invite_only: bool = True


@dataclass(frozen=True)
class ForwardingPolicy:
    max_chats: int = 5
    frequently_forwarded_at: int = 5
    frequently_forwarded_max_chats: int = 1
    batch_window_minutes: float = 60


@dataclass(frozen=True)
class ReportPolicy:
    minor_reports_priority: ReportPriority = ReportPriority.HIGH


@dataclass(frozen=True)
class SafetyPolicy:
    """Every threshold of the minor-protection rules. Build with ``parse_policy``."""

    version: int = POLICY_VERSION
    age: AgePolicy = field(default_factory=AgePolicy)
    first_contact: FirstContactPolicy = field(default_factory=FirstContactPolicy)
    discovery: DiscoveryPolicy = field(default_factory=DiscoveryPolicy)
    suspicious_adult: SuspiciousAdultPolicy = field(default_factory=SuspiciousAdultPolicy)
    notices: NoticePolicy = field(default_factory=NoticePolicy)
    groups: GroupPolicy = field(default_factory=GroupPolicy)
    forwarding: ForwardingPolicy = field(default_factory=ForwardingPolicy)
    reports: ReportPolicy = field(default_factory=ReportPolicy)


# (section, key) -> (low, high) inclusive bounds; None = unbounded on that side.
_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "age.adult_age": (1, 30),
    "age.young_minor_age": (1, 30),
    "first_contact.minor_request_messages": (0, 100),
    "suspicious_adult.acceptance_min_rate": (0.0, 1.0),
    "suspicious_adult.new_account_minor_share": (0.0, 1.0),
    "suspicious_adult.review_min_criteria": (1, 6),
    "notices.late_night_start_hour": (0, 23),
    "notices.late_night_end_hour": (0, 23),
    "notices.young_minor_late_night_start_hour": (0, 23),
    "notices.default_utc_offset_minutes": (-720, 840),
    "forwarding.max_chats": (1, None),
    "forwarding.frequently_forwarded_at": (1, None),
    "forwarding.frequently_forwarded_max_chats": (1, None),
}


def parse_policy(text: str) -> SafetyPolicy:
    """Parse and validate a TOML policy document."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("<document>", f"not valid TOML: {exc}") from exc
    return policy_from_mapping(data)


def policy_from_mapping(data: dict[str, Any]) -> SafetyPolicy:
    """Validate an already-decoded policy mapping (what ``tomllib`` returns)."""
    hints = get_type_hints(SafetyPolicy)
    known = {f.name for f in fields(SafetyPolicy)}
    for key in data:
        if key not in known:
            raise PolicyError(key, "unknown setting")
    version = data.get("version", POLICY_VERSION)
    if type(version) is not int or version != POLICY_VERSION:
        raise PolicyError("version", f"must be {POLICY_VERSION}, got {version!r}")
    sections: dict[str, Any] = {}
    for f in fields(SafetyPolicy):
        if f.name == "version":
            continue
        table = data.get(f.name, {})
        if not isinstance(table, dict):
            raise PolicyError(f.name, "must be a table")
        sections[f.name] = _section(hints[f.name], table, f.name)
    policy = SafetyPolicy(version=version, **sections)
    _cross_checks(policy)
    return policy


def default_policy() -> SafetyPolicy:
    """The packaged ``default-policy.toml`` (read once from package data)."""
    return _DEFAULT


def _section(cls: type[Any], table: dict[str, Any], prefix: str) -> Any:
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    for key in table:
        if key not in names:
            raise PolicyError(f"{prefix}.{key}", "unknown setting")
    values: dict[str, Any] = {}
    for name in names:
        if name in table:
            values[name] = _value(hints[name], table[name], f"{prefix}.{name}")
    return replace(cls(), **values)


def _value(kind: Any, raw: Any, name: str) -> Any:
    if kind is bool:
        if type(raw) is not bool:
            raise PolicyError(name, f"must be true or false, got {raw!r}")
        return raw
    if kind is int:
        if type(raw) is not int:
            raise PolicyError(name, f"must be an integer, got {raw!r}")
        return int(_bounded(raw, name))
    if kind is float:
        if type(raw) not in (int, float) or raw != raw:
            raise PolicyError(name, f"must be a number, got {raw!r}")
        if name not in _BOUNDS and raw <= 0:
            raise PolicyError(name, f"must be > 0, got {raw!r}")
        return float(_bounded(raw, name))
    if isinstance(kind, type) and issubclass(kind, enum.StrEnum):
        allowed = [m.value for m in kind]
        if raw not in allowed:
            raise PolicyError(name, f"must be one of {allowed}, got {raw!r}")
        return kind(raw)
    if not isinstance(raw, dict):  # the only remaining kind: country -> UTC offset minutes
        raise PolicyError(name, "must be a table of country code = minutes")
    offsets: dict[str, int] = {}
    for country, minutes in raw.items():
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            raise PolicyError(f"{name}.{country}", "country must be an ISO 3166-1 alpha-2 code")
        if type(minutes) is not int or not -720 <= minutes <= 840:
            raise PolicyError(
                f"{name}.{country}", f"must be minutes in [-720, 840], got {minutes!r}"
            )
        offsets[country] = minutes
    return MappingProxyType(offsets)


def _bounded(raw: float, name: str) -> float:
    low, high = _BOUNDS.get(name, (1, None))
    if low is not None and raw < low:
        raise PolicyError(name, f"must be >= {low}, got {raw!r}")
    if high is not None and raw > high:
        raise PolicyError(name, f"must be <= {high}, got {raw!r}")
    return raw


def _cross_checks(policy: SafetyPolicy) -> None:
    if policy.age.young_minor_age > policy.age.adult_age:
        raise PolicyError("age.young_minor_age", "must not exceed age.adult_age")
    fwd = policy.forwarding
    if fwd.frequently_forwarded_max_chats > fwd.max_chats:
        raise PolicyError("forwarding.frequently_forwarded_max_chats", "must not exceed max_chats")
    sus = policy.suspicious_adult
    if sus.fanout_week_threshold < sus.fanout_day_threshold:
        raise PolicyError(
            "suspicious_adult.fanout_week_threshold", "must be >= fanout_day_threshold"
        )
    notices = policy.notices
    if notices.late_night_start_hour == notices.late_night_end_hour:
        raise PolicyError("notices.late_night_end_hour", "must differ from late_night_start_hour")


def _load_default() -> SafetyPolicy:
    text = resources.files("fulcrum.safety").joinpath("default-policy.toml").read_text("utf-8")
    return parse_policy(text)


_DEFAULT = _load_default()
