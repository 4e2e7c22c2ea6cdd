"""What each mechanism reports back: detections traced to planted events (or to none)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fulcrum.sim.params import Mechanism


@dataclass(frozen=True)
class Detection:
    mechanism: Mechanism
    at: float
    account: int  # the account flagged, reported or whose media matched
    event: int  # planted event id, -1: nothing harmful (a false positive)
    kind: str  # "account_flag" | "content_match" | "report"
    detail: str = ""  # rule id, image edit, report reason


@dataclass
class MechanismRun:
    """The outcome of one mechanism on one seed."""

    mechanism: Mechanism
    detections: list[Detection] = field(default_factory=list)
    review_items: int = 0  # items it put in front of human reviewers
    facts: dict[str, Any] = field(default_factory=dict)  # mechanism-specific figures
