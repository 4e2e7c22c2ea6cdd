"""Checkpoints in the C2SP tlog-checkpoint format (https://c2sp.org/tlog-checkpoint).

The note text is the origin line, the tree size in decimal (no leading zeroes), the standard base64
of the 32-byte root hash, then optional non-empty extension lines. The log signs it as a signed note
with its Ed25519 key; the log key's name must equal the origin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fulcrum.translog.errors import CheckpointError, NoteError
from fulcrum.translog.merkle import HASH_SIZE
from fulcrum.translog.note import (
    Note,
    NoteSigner,
    Verifier,
    open_note,
    sign_note,
    std_b64decode,
    std_b64encode,
)

_MAX_SIZE = (1 << 64) - 1


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, size and RFC 9162 root hash (plus rarely used extension lines)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or any(c < " " for c in self.origin):
            raise CheckpointError("origin must be a non-empty line")
        if not 0 <= self.size <= _MAX_SIZE:
            raise CheckpointError("tree size out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError("root hash must be 32 bytes")
        for ext in self.extensions:
            if not ext or any(c < " " for c in ext):
                raise CheckpointError("extension lines must be non-empty single lines")

    def text(self) -> str:
        """The note text (ends with a newline)."""
        lines = [self.origin, str(self.size), std_b64encode(self.root_hash), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("checkpoint needs origin, size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        if not size_text.isascii() or not size_text.isdigit():
            raise CheckpointError("tree size is not a decimal number")
        if size_text != str(int(size_text)):
            raise CheckpointError("tree size has leading zeroes")
        try:
            root = std_b64decode(root_text)
        except ValueError as exc:
            raise CheckpointError("root hash is not base64") from exc
        if std_b64encode(root) != root_text:
            raise CheckpointError("root hash is not canonical base64")
        return cls(origin, int(size_text), root, tuple(extensions))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint together with the opened note it came from."""

    checkpoint: Checkpoint
    note: Note


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> bytes:
    """The signed note for a checkpoint. The signer's name must be the checkpoint origin."""
    if signer.name != checkpoint.origin:
        raise CheckpointError("the log key name must equal the checkpoint origin")
    return sign_note(checkpoint.text(), [signer])


def open_checkpoint(
    note: bytes, log_verifier: Verifier, others: Iterable[Verifier] = ()
) -> SignedCheckpoint:
    """Open a checkpoint note; it must carry a valid signature by ``log_verifier``.

    Signatures by ``others`` (e.g. witnesses) are verified too if present; any that are present and
    invalid reject the note, as in ``open_note``. Raises ``CheckpointError`` (or ``NoteError``).
    """
    opened = open_note(note, [log_verifier, *others])
    if not any(
        s.name == log_verifier.name and s.key_id == log_verifier.key_id for s in opened.signatures
    ):
        raise CheckpointError("checkpoint is not signed by the log key")
    checkpoint = Checkpoint.from_text(opened.text)
    if checkpoint.origin != log_verifier.name:
        raise CheckpointError("checkpoint origin does not match the log key name")
    return SignedCheckpoint(checkpoint, opened)


def read_checkpoint(note: bytes, log_verifier: Verifier) -> SignedCheckpoint:
    """Like ``open_checkpoint`` but every failure is a ``CheckpointError``."""
    try:
        return open_checkpoint(note, log_verifier)
    except NoteError as exc:
        raise CheckpointError(f"bad checkpoint note: {exc}") from exc
