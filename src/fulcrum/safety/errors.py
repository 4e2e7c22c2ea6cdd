"""Typed errors of the safety rules engine."""

from __future__ import annotations


class SafetyError(ValueError):
    """Base class for every error the safety package raises."""


class PolicyError(SafetyError):
    """The policy file is invalid. ``field`` names the offending setting, e.g.
    ``suspicious_adult.fanout_day_threshold``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"invalid safety policy: {field}: {problem}")
        self.field = field
        self.problem = problem


class SafetyInputError(SafetyError):
    """An event or query is malformed (e.g. a birth year in the future, an empty recipient list)."""
