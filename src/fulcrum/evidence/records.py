"""The plain data a bundle is written from: case, messages (incl. failures), provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from fulcrum.encoding import b64e
from fulcrum.hazmat.symmetric import md5_hex, sha256

Status = Literal["decrypted", "undecryptable", "out-of-scope"]
STATUSES = ("decrypted", "undecryptable", "out-of-scope")
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def iso_ms(ms: int) -> str:
    """UTC ISO 8601 with milliseconds for a time in ms since the Unix epoch."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class EvidenceAttachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def sha256_hex(self) -> str:
        return sha256(self.data).hex()

    @property
    def md5_hex(self) -> str:
        return md5_hex(self.data)

    @property
    def inline_image(self) -> bool:
        return self.content_type in INLINE_IMAGE_TYPES

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": len(self.data),
            "sha256": self.sha256_hex,
            "md5": self.md5_hex,
            "path": f"attachments/{self.sha256_hex}",
        }


@dataclass(frozen=True)
class EvidenceMessage:
    """One message in scope, or one that failed (status and ``failure`` say why)."""

    msg_id: str
    conv: str
    target: str
    sender: str
    sender_device: str
    recipients: tuple[tuple[str, str], ...]
    server_ts: int
    client_ts: int
    status: Status = "decrypted"
    body: str | None = field(default=None, repr=False)
    attachments: tuple[EvidenceAttachment, ...] = ()
    reply_to: str | None = None
    forwarded: bool = False
    failure: str | None = None
    escrow_field: bytes | None = None
    ctx: bytes | None = None
    envelope: bytes | None = None
    franking_verdict: str | None = None
    request_id: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        if self.status != "decrypted" and not self.failure:
            raise ValueError("a failed message needs a failure reason")

    @property
    def direction(self) -> str:
        """Relative to the target: ``from-target`` or ``to-target``."""
        return "from-target" if self.sender == self.target else "to-target"

    @property
    def body_sha256(self) -> str | None:
        return None if self.body is None else sha256(self.body.encode("utf-8")).hex()

    def integrity_line(self) -> str:
        parts = [f"body SHA-256 {self.body_sha256 or '-'}"]
        if self.escrow_field is not None:
            parts.append(f"escrow field SHA-256 {sha256(self.escrow_field).hex()}")
        if self.request_id:
            parts.append(f"request {self.request_id}")
        parts.append(f"franking {self.franking_verdict or 'n/a'}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "msg_id": self.msg_id,
            "conv": self.conv,
            "target": self.target,
            "direction": self.direction,
            "sender": self.sender,
            "sender_device": self.sender_device,
            "recipients": [[a, d] for a, d in self.recipients],
            "server_time": iso_ms(self.server_ts),
            "server_ts_ms": self.server_ts,
            "client_time": iso_ms(self.client_ts),
            "client_ts_ms": self.client_ts,
            "status": self.status,
            "failure": self.failure,
            "body": self.body,
            "body_sha256": self.body_sha256,
            "attachments": [a.to_json() for a in self.attachments],
            "reply_to": self.reply_to,
            "forwarded": self.forwarded,
            "franking_verdict": self.franking_verdict,
            "request_id": self.request_id,
            "integrity": self.integrity_line(),
        }


@dataclass(frozen=True)
class EvidenceCase:
    case_id: str
    warrant_id: str
    agency: str
    recipient: str
    platform: str
    exported_at: int
    notes: tuple[str, ...] = ()  # e.g. "N further messages in scope not requested: warrant limit"


@dataclass(frozen=True)
class LogProof:
    """A log entry with its inclusion proof under a (cosigned) checkpoint note."""

    entry: bytes
    leaf_index: int
    proof: tuple[bytes, ...]
    checkpoint_note: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": b64e(self.entry),
            "leaf_index": self.leaf_index,
            "proof": [b64e(p) for p in self.proof],
            "checkpoint": b64e(self.checkpoint_note),
        }


@dataclass(frozen=True)
class RequestProvenance:
    """One decryption request: its items, the epoch key bundle and the trustees' partials."""

    request_id: str
    binding: bytes
    epoch_bundle: bytes
    items: tuple[tuple[str, bytes, bytes], ...]  # (msg_id, escrow field, ctx)
    partials: tuple[bytes, ...]
    epoch_key_proof: LogProof | None = None  # the epoch's EpochKey entry, cosigned

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "binding": b64e(self.binding),
            "epoch_bundle": b64e(self.epoch_bundle),
            "epoch_key_log": None
            if self.epoch_key_proof is None
            else self.epoch_key_proof.to_json(),
            "items": [
                {"msg_id": m, "escrow_field": b64e(f), "ctx": b64e(c)} for m, f, c in self.items
            ],
            "partials": [b64e(p) for p in self.partials],
        }


@dataclass(frozen=True)
class EvidenceProvenance:
    signed_warrant: bytes
    warrant_log_proofs: tuple[LogProof, ...] = ()
    requests: tuple[RequestProvenance, ...] = ()
