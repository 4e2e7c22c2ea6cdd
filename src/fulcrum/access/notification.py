"""Target notification: notify-after, judge-signed extensions, a hard cap of one year.

A warrant's targets are told at ``notify_after`` (default 90 days after the window end). A judge may
extend this with a signed ``NotificationExtension``; it counts only if it verifies under a judge key
registered in the log, belongs to the warrant, is logged as a ``NotificationDelayed`` entry with its
digest, and was logged before the notification fell due. No extension goes past
``window_end + 365 days``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fulcrum.access.errors import AccessError, NotificationError, WarrantFormatError
from fulcrum.access.warrant import (
    NOTIFY_HARD_CAP,
    JudgeKey,
    Warrant,
    verify_judge_signature,
)
from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json, domain_message
from fulcrum.hazmat.signing import SigningKey
from fulcrum.hazmat.symmetric import sha256
from fulcrum.translog import LogEntry, NotificationDelayed

EXTENSION_DOMAIN = "fulcrum/access/notification-extension/v1"


@dataclass(frozen=True)
class NotificationExtension:
    warrant_id: str
    delayed_until: int
    reason: str
    judge_key_id: str
    issued_at: int
    signature: bytes = b""

    def body(self) -> bytes:
        return canonical_json(
            {
                "domain": EXTENSION_DOMAIN,
                "warrant_id": self.warrant_id,
                "delayed_until": self.delayed_until,
                "reason": self.reason,
                "judge_key_id": self.judge_key_id,
                "issued_at": self.issued_at,
            }
        )

    def message(self) -> bytes:
        return domain_message(EXTENSION_DOMAIN, self.body())

    def to_bytes(self) -> bytes:
        return canonical_json({"extension": b64e(self.body()), "signature": b64e(self.signature)})

    @property
    def digest(self) -> bytes:
        return sha256(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> NotificationExtension:
        """Strict parse of ``to_bytes()`` output (canonical only); ``WarrantFormatError``."""
        import json

        try:
            outer = json.loads(bytes(data))
            if not isinstance(outer, dict) or set(outer) != {"extension", "signature"}:
                raise WarrantFormatError("extension has the wrong keys")
            body = json.loads(b64d(outer["extension"]))
            keys = {"domain", "warrant_id", "delayed_until", "reason", "judge_key_id", "issued_at"}
            if (
                not isinstance(body, dict)
                or set(body) != keys
                or body["domain"] != EXTENSION_DOMAIN
            ):
                raise WarrantFormatError("extension body has the wrong keys or domain")
            ext = cls(str(body["warrant_id"]), int(body["delayed_until"]), str(body["reason"]),
                      str(body["judge_key_id"]), int(body["issued_at"]),
                      b64d(outer["signature"], length=64))  # fmt: skip
        except WarrantFormatError:
            raise
        except (ValueError, TypeError, EncodingError, RecursionError) as exc:
            raise WarrantFormatError("malformed notification extension") from exc
        if ext.to_bytes() != bytes(data):
            raise WarrantFormatError("extension is not in canonical form")
        return ext

    def to_log_entry(self, time: int) -> NotificationDelayed:
        return NotificationDelayed(
            time=time,
            warrant_id=self.warrant_id,
            order_digest=self.digest,
            delayed_until=self.delayed_until,
        )


def notification_cap(warrant: Warrant) -> int:
    return warrant.window_end + NOTIFY_HARD_CAP


def sign_extension(
    warrant: Warrant,
    *,
    delayed_until: int,
    reason: str,
    judge_key_id: str,
    issued_at: int,
    key: SigningKey,
) -> NotificationExtension:
    """A judge's signed extension; refuses one past the hard cap or not later than notify-after."""
    if delayed_until > notification_cap(warrant):
        raise NotificationError("an extension cannot go past one year after the window end")
    if delayed_until <= warrant.notify_after:
        raise NotificationError("an extension must move notification later")
    ext = NotificationExtension(warrant.warrant_id, delayed_until, reason, judge_key_id, issued_at)
    return NotificationExtension(
        ext.warrant_id, delayed_until, reason, judge_key_id, issued_at, key.sign(ext.message())
    )


def notify_at(
    warrant: Warrant,
    extensions: Iterable[NotificationExtension],
    log_entries: Sequence[LogEntry],
    judge_keys: Mapping[str, JudgeKey],
) -> int:
    """When the targets must be told, counting only valid, logged, timely extensions."""
    logged = {
        (e.order_digest, e.delayed_until): e.time
        for e in log_entries
        if isinstance(e, NotificationDelayed) and e.warrant_id == warrant.warrant_id
    }
    due = warrant.notify_after
    cap = notification_cap(warrant)
    valid: list[tuple[int, NotificationExtension]] = []
    for ext in extensions:
        logged_at = logged.get((ext.digest, ext.delayed_until))
        if ext.warrant_id != warrant.warrant_id or logged_at is None or ext.delayed_until > cap:
            continue
        try:
            verify_judge_signature(
                judge_keys, ext.judge_key_id, ext.message(), ext.signature, ext.issued_at
            )
        except AccessError:
            continue
        valid.append((logged_at, ext))
    for logged_at, ext in sorted(valid, key=lambda p: p[0]):
        if logged_at < due:  # an extension logged after notification fell due is too late
            due = max(due, ext.delayed_until)
    return min(due, cap)


@dataclass(frozen=True)
class DueNotification:
    warrant_id: str
    targets: tuple[str, ...]
    due_at: int


def due_notifications(
    warrants: Iterable[Warrant],
    extensions: Iterable[NotificationExtension],
    now: int,
    *,
    log_entries: Sequence[LogEntry],
    judge_keys: Mapping[str, JudgeKey],
    unsealed: Iterable[str] = (),
) -> list[DueNotification]:
    """Warrants whose targets must be told at ``now`` (and not yet unsealed), earliest first."""
    done = set(unsealed)
    exts = list(extensions)
    out = []
    for w in warrants:
        if w.warrant_id in done:
            continue
        due = notify_at(w, exts, log_entries, judge_keys)
        if now >= due:
            out.append(DueNotification(w.warrant_id, w.targets, due))
    return sorted(out, key=lambda d: (d.due_at, d.warrant_id))
