"""Scope and quota policies as composable objects that explain every refusal.

A policy's ``check(warrant, usage)`` returns the ``Refusal``s it has (empty = acceptable). ``AllOf``
refuses if any part refuses; ``AnyOf`` accepts if any part accepts. ``default_policy()`` is the
design's limits: <= 3 targets, <= 30 days forward, <= 90 days back (and retrospective access only
where switched on), <= 10,000 messages, special categories refused unless allowed, and quotas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from fulcrum.access.quota import AccessUsage
from fulcrum.access.warrant import DAY, SPECIAL_CATEGORIES, Warrant


@dataclass(frozen=True)
class Refusal:
    """Why a policy refuses: a stable ``code`` and a sentence for people."""

    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class ScopePolicy(Protocol):
    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]: ...


@dataclass(frozen=True)
class AllOf:
    policies: tuple[ScopePolicy, ...]

    def __init__(self, *policies: ScopePolicy) -> None:
        object.__setattr__(self, "policies", policies)

    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]:
        return tuple(r for p in self.policies for r in p.check(warrant, usage))


@dataclass(frozen=True)
class AnyOf:
    policies: tuple[ScopePolicy, ...]

    def __init__(self, *policies: ScopePolicy) -> None:
        if not policies:
            raise ValueError("AnyOf needs at least one policy")
        object.__setattr__(self, "policies", policies)

    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]:
        found: list[Refusal] = []
        for p in self.policies:
            refusals = p.check(warrant, usage)
            if not refusals:
                return ()
            found.extend(refusals)
        return (Refusal("none-of", "no alternative accepts: " + "; ".join(map(str, found))),)


@dataclass(frozen=True)
class MaxTargets:
    limit: int = 3

    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]:
        n = len(warrant.targets)
        if n <= self.limit:
            return ()
        return (Refusal("too-many-targets", f"{n} targets, at most {self.limit} allowed"),)


@dataclass(frozen=True)
class MaxForwardDays:
    days: int = 30

    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]:
        if warrant.prospective_seconds <= self.days * DAY:
            return ()
        got = warrant.prospective_seconds / DAY
        return (Refusal("window-forward", f"{got:.1f} days forward, at most {self.days}"),)


@dataclass(frozen=True)
class MaxBackDays:
    days: int = 90

    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]:
        if warrant.retrospective_seconds <= self.days * DAY:
            return ()
        got = warrant.retrospective_seconds / DAY
        return (Refusal("window-back", f"{got:.1f} days back, at most {self.days}"),)


@dataclass(frozen=True)
class RetrospectiveAllowed:
    """The retention policy switch: without it, the window may not start before issue."""

    allowed: bool = False

    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]:
        if self.allowed or warrant.retrospective_seconds == 0:
            return ()
        return (
            Refusal(
                "retrospective-disabled",
                "the window starts before the warrant was issued and retention is prospective only",
            ),
        )


@dataclass(frozen=True)
class MaxMessages:
    limit: int = 10_000

    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]:
        if warrant.max_messages <= self.limit:
            return ()
        return (
            Refusal("too-many-messages", f"{warrant.max_messages} messages, at most {self.limit}"),
        )


@dataclass(frozen=True)
class SpecialCategories:
    """Categories this trustee accepts; any other flagged category is refused."""

    allowed: frozenset[str] = frozenset()

    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]:
        refused = sorted(set(warrant.special_categories) - self.allowed)
        if not refused:
            return ()
        return (Refusal("special-category", f"special categories need separate review: {refused}"),)


@dataclass(frozen=True)
class AgencyWarrantQuota:
    """At most ``limit`` warrants per agency registered in the usage period (incl. this one)."""

    limit: int

    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]:
        n = usage.warrants_by_agency.get(warrant.agency, 0)
        if n <= self.limit:
            return ()
        return (
            Refusal(
                "agency-warrant-quota", f"{warrant.agency} has {n} warrants, quota {self.limit}"
            ),
        )


@dataclass(frozen=True)
class AgencyMessageQuota:
    """Messages already requested by the agency plus this warrant's maximum within ``limit``."""

    limit: int

    def check(self, warrant: Warrant, usage: AccessUsage) -> tuple[Refusal, ...]:
        used = usage.messages_by_agency.get(warrant.agency, 0)
        if used + warrant.max_messages <= self.limit:
            return ()
        return (
            Refusal(
                "agency-message-quota",
                f"{warrant.agency} requested {used} messages; {warrant.max_messages} more "
                f"would exceed {self.limit}",
            ),
        )


def default_policy(
    *,
    retrospective: bool = False,
    allowed_categories: Iterable[str] = (),
    agency_warrants: int = 20,
    agency_messages: int = 100_000,
) -> AllOf:
    allowed = frozenset(allowed_categories)
    if not allowed <= SPECIAL_CATEGORIES:
        raise ValueError(f"unknown special categories {sorted(allowed - SPECIAL_CATEGORIES)}")
    return AllOf(
        MaxTargets(3),
        MaxForwardDays(30),
        MaxBackDays(90),
        RetrospectiveAllowed(retrospective),
        MaxMessages(10_000),
        SpecialCategories(allowed),
        AgencyWarrantQuota(agency_warrants),
        AgencyMessageQuota(agency_messages),
    )
