"""Typed errors of the transparency log package.

Everything here is public data (proofs, notes, log entries), so the errors say which check failed:
that helps monitors and operators and tells an attacker nothing they could not compute themselves.
"""

from __future__ import annotations

from enum import Enum


class TranslogError(ValueError):
    """Base class of every error raised by ``fulcrum.translog``."""


class ProofError(TranslogError):
    """A Merkle inclusion or consistency proof does not verify, or cannot be produced."""


class LogEntryError(TranslogError):
    """Bytes or values that are not a valid log entry of a known type and schema version."""


class NoteError(TranslogError):
    """A signed note is malformed or does not verify."""


class MalformedNoteError(NoteError):
    def __init__(self) -> None:
        super().__init__("malformed note")


class UnverifiedNoteError(NoteError):
    """The note is well formed but none of its signatures is from a known key."""

    def __init__(self, unverified: tuple[object, ...] = ()) -> None:
        super().__init__("note has no verifiable signatures")
        self.unverified = unverified


class InvalidNoteSignatureError(NoteError):
    """A signature line from a known key does not verify: the whole note is rejected."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


class AmbiguousKeyError(NoteError):
    """The set of known verifiers holds two keys with the same name and key ID."""

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"ambiguous key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


class KeyFormatError(NoteError):
    """A verifier or signer key string is malformed."""


class CheckpointError(TranslogError):
    """A checkpoint body is malformed or its signatures do not satisfy the policy."""


class CosignatureQuorumError(CheckpointError):
    """Fewer valid witness cosignatures than the policy requires."""


class RefusalReason(Enum):
    UNKNOWN_LOG = "unknown_log"
    BAD_LOG_SIGNATURE = "bad_log_signature"
    MALFORMED = "malformed"
    CONFLICT = "conflict"  # caller's idea of our last cosigned size is stale
    ROLLBACK = "rollback"  # smaller tree after a larger one
    SPLIT_VIEW = "split_view"  # same size, different root
    INCONSISTENT = "inconsistent"  # consistency proof does not verify
    STALE_TIME = "stale_time"  # timestamp earlier than our last cosignature for the log


class WitnessRefusal(TranslogError):
    """A witness refuses to cosign a checkpoint. ``known_size`` is its last cosigned size."""

    def __init__(self, reason: RefusalReason, detail: str, known_size: int | None = None) -> None:
        super().__init__(f"witness refuses ({reason.value}): {detail}")
        self.reason = reason
        self.known_size = known_size
