"""Warrants and judge keys: canonical documents, Ed25519 signatures, strict parsing.

A ``Warrant`` is the RFC 8785 canonical JSON of its fields (see ``Warrant.to_json``); a judge signs
``domain_message("fulcrum/access/warrant/v1", warrant bytes)``. Times are unix seconds. The window
``[window_start, window_end]`` has a retrospective part ``[window_start, issued_at)`` and a
prospective part ``[issued_at, window_end]``.

``warrant_id`` is a public, opaque id (a single line of 1-256 characters) that never names a
target. ``warrant_id_for`` builds the conventional ``<jurisdiction>:<agency>:<serial>``; the log's
``WarrantRegistered`` carries agency and jurisdiction as fields of their own, and quotas per
agency are computed from those.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fulcrum.access.errors import JudgeSignatureError, WarrantFormatError
from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json, domain_message
from fulcrum.hazmat.errors import CryptoError
from fulcrum.hazmat.signing import SigningKey, VerifyKey
from fulcrum.hazmat.symmetric import sha256
from fulcrum.translog import JudgeKeyRegistered, LogEntry

DAY = 86_400
DEFAULT_NOTIFY_DELAY = 90 * DAY
NOTIFY_HARD_CAP = 365 * DAY
WARRANT_DOMAIN = "fulcrum/access/warrant/v1"
MAX_TEXT = 256
MAX_LEGAL_BASIS = 2_000
MAX_TARGETS = 64
MAX_INT = 2**53 - 1
SPECIAL_CATEGORIES = frozenset(
    {"journalist", "legal-privilege", "medical", "minor", "parliamentarian", "religious"}
)
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_KEYS = frozenset(
    {
        "domain", "warrant_id", "agency", "jurisdiction", "legal_basis", "targets",
        "window_start", "window_end", "issued_at", "notify_after", "max_messages",
        "special_categories", "judge_key_id",
    }
)  # fmt: skip


def warrant_id_for(jurisdiction: str, agency: str, serial: str) -> str:
    """The public warrant id ``<jurisdiction>:<agency>:<serial>`` (codes: ``[A-Za-z0-9._-]``)."""
    for name, value in (("jurisdiction", jurisdiction), ("agency", agency), ("serial", serial)):
        if not isinstance(value, str) or not _CODE.fullmatch(value):
            raise WarrantFormatError(f"{name} must be a code of 1-64 of [A-Za-z0-9._-]")
    return f"{jurisdiction}:{agency}:{serial}"


def parse_warrant_id(warrant_id: str) -> tuple[str, str, str]:
    """``(jurisdiction, agency, serial)`` of a public warrant id."""
    parts = warrant_id.split(":") if isinstance(warrant_id, str) else []
    if len(parts) != 3 or not all(_CODE.fullmatch(p) for p in parts):
        raise WarrantFormatError("warrant id must be <jurisdiction>:<agency>:<serial>")
    return parts[0], parts[1], parts[2]


def _text(name: str, value: object, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise WarrantFormatError(f"{name} must be a string of 1 to {limit} characters")
    if any(c < " " and c not in "\n" for c in value):
        raise WarrantFormatError(f"{name} holds control characters")
    return value


def _int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise WarrantFormatError(f"{name} must be an integer in [0, 2^53)")
    return value


@dataclass(frozen=True)
class Warrant:
    """A warrant as issued by a court. ``targets`` are accounts, sorted and distinct."""

    warrant_id: str
    agency: str
    jurisdiction: str
    legal_basis: str
    targets: tuple[str, ...]
    window_start: int
    window_end: int
    issued_at: int
    notify_after: int
    max_messages: int
    special_categories: tuple[str, ...]
    judge_key_id: str

    def __post_init__(self) -> None:
        _text("warrant_id", self.warrant_id)
        if "\n" in self.warrant_id:
            raise WarrantFormatError("warrant_id must be a single line")
        for name in ("agency", "jurisdiction"):
            if not isinstance(getattr(self, name), str) or not _CODE.fullmatch(getattr(self, name)):
                raise WarrantFormatError(f"{name} must be a code of 1-64 of [A-Za-z0-9._-]")
        _text("legal_basis", self.legal_basis, MAX_LEGAL_BASIS)
        _text("judge_key_id", self.judge_key_id)
        if not isinstance(self.targets, tuple) or not 1 <= len(self.targets) <= MAX_TARGETS:
            raise WarrantFormatError(f"a warrant names 1 to {MAX_TARGETS} targets")
        for t in self.targets:
            _text("target", t)
        if list(self.targets) != sorted(set(self.targets)):
            raise WarrantFormatError("targets must be sorted and distinct (use Warrant.create)")
        for name in ("window_start", "window_end", "issued_at", "notify_after", "max_messages"):
            _int(name, getattr(self, name))
        if self.window_end <= self.window_start:
            raise WarrantFormatError("the window must end after it starts")
        if self.max_messages < 1:
            raise WarrantFormatError("max_messages must be at least 1")
        cats = self.special_categories
        if not isinstance(cats, tuple) or list(cats) != sorted(set(cats)):
            raise WarrantFormatError("special categories must be sorted and distinct")
        unknown = set(cats) - SPECIAL_CATEGORIES
        if unknown:
            raise WarrantFormatError(f"unknown special categories {sorted(unknown)}")
        if not self.window_end <= self.notify_after <= self.window_end + NOTIFY_HARD_CAP:
            raise WarrantFormatError("notify_after must lie within a year after the window end")

    @classmethod
    def create(
        cls,
        *,
        warrant_id: str,
        agency: str,
        jurisdiction: str,
        legal_basis: str,
        targets: Iterable[str],
        window_start: int,
        window_end: int,
        issued_at: int,
        judge_key_id: str,
        max_messages: int = 10_000,
        notify_after: int | None = None,
        special_categories: Iterable[str] = (),
    ) -> Warrant:
        """Build a warrant; ``notify_after`` defaults to 90 days after the window end."""
        return cls(
            warrant_id=warrant_id,
            agency=agency,
            jurisdiction=jurisdiction,
            legal_basis=legal_basis,
            targets=tuple(sorted(set(targets))),
            window_start=window_start,
            window_end=window_end,
            issued_at=issued_at,
            notify_after=window_end + DEFAULT_NOTIFY_DELAY
            if notify_after is None
            else notify_after,
            max_messages=max_messages,
            special_categories=tuple(sorted(set(special_categories))),
            judge_key_id=judge_key_id,
        )

    @property
    def retrospective_seconds(self) -> int:
        return max(0, self.issued_at - self.window_start)

    @property
    def prospective_seconds(self) -> int:
        return max(0, self.window_end - max(self.issued_at, self.window_start))

    def covers_ms(self, time_ms: int) -> bool:
        """Whether a time in milliseconds lies inside the window (both ends included)."""
        return self.window_start * 1000 <= time_ms <= self.window_end * 1000

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": WARRANT_DOMAIN,
            "warrant_id": self.warrant_id,
            "agency": self.agency,
            "jurisdiction": self.jurisdiction,
            "legal_basis": self.legal_basis,
            "targets": list(self.targets),
            "window_start": self.window_start,
            "window_end": self.window_end,
            "issued_at": self.issued_at,
            "notify_after": self.notify_after,
            "max_messages": self.max_messages,
            "special_categories": list(self.special_categories),
            "judge_key_id": self.judge_key_id,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Warrant:
        if not isinstance(obj, Mapping) or set(obj) != _KEYS or obj["domain"] != WARRANT_DOMAIN:
            raise WarrantFormatError("warrant has the wrong keys or domain")
        lists = obj["targets"], obj["special_categories"]
        if not all(isinstance(v, list) for v in lists):
            raise WarrantFormatError("targets and special categories must be lists")
        try:
            return cls(
                **{k: obj[k] for k in _KEYS - {"domain", "targets", "special_categories"}},
                targets=tuple(obj["targets"]),
                special_categories=tuple(obj["special_categories"]),
            )
        except TypeError as exc:  # pragma: no cover - keys are checked above
            raise WarrantFormatError("malformed warrant") from exc

    @classmethod
    def from_bytes(cls, data: bytes) -> Warrant:
        """Strict parse: exactly the expected keys, canonical form. Only ``WarrantFormatError``."""
        warrant = cls.from_json(_parse_object(data, "warrant"))
        if warrant.to_bytes() != bytes(data):
            raise WarrantFormatError("warrant is not in canonical form")
        return warrant


def _parse_object(data: bytes, what: str) -> dict[str, Any]:
    import json

    try:
        value = json.loads(bytes(data), parse_float=_no_float, parse_constant=_no_float)
    except (UnicodeDecodeError, ValueError, RecursionError, TypeError) as exc:
        raise WarrantFormatError(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise WarrantFormatError(f"{what} must be a JSON object")
    return value


def _no_float(token: str) -> Any:
    raise WarrantFormatError("numbers must be integers")


def warrant_message(warrant: Warrant) -> bytes:
    """The exact bytes a judge signs."""
    return domain_message(WARRANT_DOMAIN, warrant.to_bytes())


@dataclass(frozen=True)
class SignedWarrant:
    """A warrant with its judge's Ed25519 signature."""

    warrant: Warrant
    signature: bytes

    def to_bytes(self) -> bytes:
        return canonical_json(
            {"warrant": self.warrant.to_json(), "signature": b64e(self.signature)}
        )

    @property
    def digest(self) -> bytes:
        return sha256(self.to_bytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedWarrant:
        obj = _parse_object(data, "signed warrant")
        if set(obj) != {"warrant", "signature"}:
            raise WarrantFormatError("signed warrant has the wrong keys")
        try:
            signature = b64d(obj["signature"], length=64)
        except EncodingError as exc:
            raise WarrantFormatError("signature must be 64 bytes of base64url") from exc
        signed = cls(Warrant.from_json(obj["warrant"]), signature)
        if signed.to_bytes() != bytes(data):
            raise WarrantFormatError("signed warrant is not in canonical form")
        return signed


@dataclass(frozen=True)
class JudgeKey:
    """A judge's registered Ed25519 key (the value of a ``JudgeKeyRegistered`` log entry)."""

    judge_key_id: str
    court: str
    public_key: VerifyKey
    valid_from: int
    valid_until: int

    def __post_init__(self) -> None:
        _text("judge_key_id", self.judge_key_id)
        _text("court", self.court)
        if not 0 <= self.valid_from < self.valid_until <= MAX_INT:
            raise WarrantFormatError("judge key validity must satisfy valid_from < valid_until")

    def is_valid_at(self, t: int) -> bool:
        return self.valid_from <= t < self.valid_until

    def to_log_entry(self, time: int) -> JudgeKeyRegistered:
        return JudgeKeyRegistered(
            time=time,
            judge_key_id=self.judge_key_id,
            court=self.court,
            public_key=self.public_key.raw,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )

    @classmethod
    def from_log_entry(cls, entry: JudgeKeyRegistered) -> JudgeKey:
        return cls(
            judge_key_id=entry.judge_key_id,
            court=entry.court,
            public_key=VerifyKey(entry.public_key),
            valid_from=entry.valid_from,
            valid_until=entry.valid_until,
        )


def judge_keys_from_log(entries: Iterable[LogEntry]) -> dict[str, JudgeKey]:
    """Judge keys registered in the log, by id; the first registration of an id wins."""
    keys: dict[str, JudgeKey] = {}
    for e in entries:
        if isinstance(e, JudgeKeyRegistered) and e.judge_key_id not in keys:
            keys[e.judge_key_id] = JudgeKey.from_log_entry(e)
    return keys


def sign_warrant(warrant: Warrant, key: SigningKey) -> SignedWarrant:
    return SignedWarrant(warrant, key.sign(warrant_message(warrant)))


def verify_judge_signature(
    judge_keys: Mapping[str, JudgeKey], key_id: str, message: bytes, signature: bytes, at: int
) -> JudgeKey:
    """The registered key ``key_id`` if it was valid at ``at`` and signed ``message``."""
    key = judge_keys.get(key_id)
    if key is None:
        raise JudgeSignatureError(f"judge key {key_id!r} is not registered in the log")
    if not key.is_valid_at(at):
        raise JudgeSignatureError(f"judge key {key_id!r} was not valid at {at}")
    try:
        key.public_key.verify(signature, message)
    except CryptoError as exc:
        raise JudgeSignatureError(f"signature does not verify under judge key {key_id!r}") from exc
    return key


def verify_warrant(signed: SignedWarrant, judge_keys: Mapping[str, JudgeKey]) -> Warrant:
    """The warrant, if its judge key is registered, valid at issue time, and signed it."""
    w = signed.warrant
    verify_judge_signature(
        judge_keys, w.judge_key_id, warrant_message(w), signed.signature, w.issued_at
    )
    return w
