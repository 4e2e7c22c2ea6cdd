"""Typed errors of the lawful-access protocol. Each says which step refused and why."""

from __future__ import annotations


class AccessError(ValueError):
    """Base class of every lawful-access error."""


class WarrantFormatError(AccessError):
    """A warrant, extension or decision document is malformed or not in canonical form."""


class JudgeSignatureError(AccessError):
    """A judge signature does not verify under a judge key registered in the log."""


class RequestRefused(AccessError):
    """A trustee refused a decryption request; ``reasons`` lists every failed check."""

    def __init__(self, reasons: tuple[str, ...]) -> None:
        super().__init__("decryption request refused: " + "; ".join(reasons))
        self.reasons = reasons


class NotificationError(AccessError):
    """A notification extension is invalid (past the hard cap, wrong warrant, not logged)."""


class LifecycleError(AccessError):
    """A warrant lifecycle step was taken out of order."""
