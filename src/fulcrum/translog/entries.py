"""Typed log entries: canonical JSON with ``type`` and ``v`` (schema version), parsed strictly.

Every entry is a frozen dataclass whose field annotations are its schema. Values are checked on
construction and on parsing; parsing rejects unknown types and versions, missing and extra fields,
wrong JSON types, duplicate keys, floats and any bytes that are not the canonical (RFC 8785)
encoding of the entry, so each entry has exactly one leaf hash.

JSON conventions: ``time`` is unix seconds (an integer, passed in by the caller); byte strings
(hashes, keys, commitments, signatures) are base64url without padding; hashes are 32-byte SHA-256;
counts are JSON objects of non-negative integers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Annotated, Any, ClassVar, TypeVar, get_args, get_origin, get_type_hints

from fulcrum.encoding import EncodingError, b64d, b64e, canonical_json, domain_message
from fulcrum.hazmat.symmetric import sha256
from fulcrum.translog.errors import LogEntryError

MAX_INT = (1 << 53) - 1  # exactly representable in every JSON implementation (RFC 8785 / I-JSON)
MAX_TEXT = 256
MAX_ITEMS = 256
MAX_ENTRY_BYTES = 64 * 1024
MIN_SALT_BYTES = 16  # >= 128-bit salts for every commitment
_COMMITMENT_LABEL = "fulcrum/translog/target-commitment/v1"


@dataclass(frozen=True)
class Bytes:
    """Schema marker for a byte-string field: exact ``size`` or a length range."""

    size: int | None = None
    min_size: int = 1
    max_size: int = 4096


Digest = Annotated[bytes, Bytes(32)]
PublicKey = Annotated[bytes, Bytes(32)]
Blob = Annotated[bytes, Bytes()]
Names = tuple[str, ...]
Blobs = tuple[Blob, ...]
Counts = tuple[tuple[str, int], ...]


def counts(mapping: Mapping[str, int]) -> Counts:
    """Build a ``Counts`` value (sorted name/number pairs) from a mapping."""
    return tuple(sorted(mapping.items()))


def commit_target(target: bytes, salt: bytes) -> bytes:
    """Hiding commitment to a target identifier; never log the identifier itself.

    SHA-256 over a domain label, the salt and the target (length-prefixed). The salt must be at
    least 16 bytes and stays with the warrant, out of the log.
    """
    if len(salt) < MIN_SALT_BYTES:
        raise LogEntryError(f"commitment salt must be at least {MIN_SALT_BYTES} bytes")
    return sha256(domain_message(_COMMITMENT_LABEL, salt, target))


def _fail(name: str, why: str) -> LogEntryError:
    return LogEntryError(f"field {name!r}: {why}")


def _check_int(name: str, v: object) -> int:
    if type(v) is not int or not 0 <= v <= MAX_INT:
        raise _fail(name, f"expected an integer in 0..{MAX_INT}")
    return v


def _check_text(name: str, v: object) -> str:
    if type(v) is not str or not 0 < len(v) <= MAX_TEXT or any(c < " " for c in v):
        raise _fail(name, f"expected a single-line string of 1..{MAX_TEXT} characters")
    return v


def _check_bytes(name: str, v: object, spec: Bytes) -> bytes:
    if type(v) is not bytes:
        raise _fail(name, "expected bytes")
    if spec.size is not None and len(v) != spec.size:
        raise _fail(name, f"expected {spec.size} bytes, got {len(v)}")
    if not spec.min_size <= len(v) <= spec.max_size:
        raise _fail(name, f"expected {spec.min_size}..{spec.max_size} bytes")
    return v


# (kind, bytes spec) per annotation; kinds: int bool str bytes names blobs counts
_Kind = tuple[str, Bytes | None]


def _kind_of(hint: Any) -> _Kind:
    if get_origin(hint) is Annotated:
        base, *meta = get_args(hint)
        spec = next(m for m in meta if isinstance(m, Bytes))
        if base is bytes:
            return ("bytes", spec)
    if hint in (int, bool, str):
        return (hint.__name__, None)
    if hint == Names:
        return ("names", None)
    if hint == Blobs:
        return ("blobs", Bytes())
    if hint == Counts:
        return ("counts", None)
    raise TypeError(f"unsupported entry field type {hint!r}")


def _check_value(name: str, kind: _Kind, v: object) -> None:
    tag, spec = kind
    if tag == "int":
        _check_int(name, v)
    elif tag == "bool":
        if type(v) is not bool:
            raise _fail(name, "expected a boolean")
    elif tag == "str":
        _check_text(name, v)
    elif tag == "bytes":
        assert spec is not None
        _check_bytes(name, v, spec)
    elif tag in ("names", "blobs"):
        if type(v) is not tuple or len(v) > MAX_ITEMS:
            raise _fail(name, f"expected a tuple of at most {MAX_ITEMS} items")
        for item in v:
            if spec is None:
                _check_text(name, item)
            else:
                _check_bytes(name, item, spec)
    else:  # counts
        if type(v) is not tuple or len(v) > MAX_ITEMS:
            raise _fail(name, f"expected at most {MAX_ITEMS} (name, count) pairs")
        keys = []
        for pair in v:
            if type(pair) is not tuple or len(pair) != 2:
                raise _fail(name, "expected (name, count) pairs")
            keys.append(_check_text(name, pair[0]))
            _check_int(name, pair[1])
        if keys != sorted(set(keys)):
            raise _fail(name, "count names must be unique and sorted (use counts())")


def _to_json(kind: _Kind, v: Any) -> Any:
    tag = kind[0]
    if tag == "bytes":
        return b64e(v)
    if tag == "names":
        return list(v)
    if tag == "blobs":
        return [b64e(item) for item in v]
    if tag == "counts":
        return dict(v)
    return v


def _decode_b64(name: str, v: object) -> bytes:
    if type(v) is not str:
        raise _fail(name, "expected a base64url string")
    try:
        return b64d(v)
    except EncodingError as exc:
        raise _fail(name, "invalid base64url") from exc


def _from_json(name: str, kind: _Kind, v: Any) -> Any:
    tag = kind[0]
    if tag == "bytes":
        return _decode_b64(name, v)
    if tag in ("names", "blobs"):
        if type(v) is not list:
            raise _fail(name, "expected a list")
        return tuple(_decode_b64(name, item) for item in v) if tag == "blobs" else tuple(v)
    if tag == "counts":
        if type(v) is not dict:
            raise _fail(name, "expected an object of counts")
        return counts(v)
    return v


E = TypeVar("E", bound="LogEntry")
_REGISTRY: dict[str, type[LogEntry]] = {}
_SCHEMAS: dict[type[LogEntry], dict[str, _Kind]] = {}


def _schema(cls: type[LogEntry]) -> dict[str, _Kind]:
    schema = _SCHEMAS.get(cls)
    if schema is None:
        hints = get_type_hints(cls, include_extras=True)
        schema = {f.name: _kind_of(hints[f.name]) for f in fields(cls)}
        _SCHEMAS[cls] = schema
    return schema


def register(cls: type[E]) -> type[E]:
    """Class decorator: add an entry type to the registry ``parse_entry`` uses."""
    if not cls.TYPE or cls.TYPE in _REGISTRY:
        raise TypeError(f"entry type {cls.TYPE!r} missing or registered twice")
    if {"type", "v"} & {f.name for f in fields(cls)}:
        raise TypeError("'type' and 'v' are reserved field names")
    _schema(cls)
    _REGISTRY[cls.TYPE] = cls
    return cls


@dataclass(frozen=True, kw_only=True)
class LogEntry:
    """Base of all entry types. ``time`` is unix seconds, passed in."""

    TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    time: int

    def __post_init__(self) -> None:
        for name, kind in _schema(type(self)).items():
            _check_value(name, kind, getattr(self, name))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.TYPE, "v": self.VERSION}
        for name, kind in _schema(type(self)).items():
            out[name] = _to_json(kind, getattr(self, name))
        return out

    def encode(self) -> bytes:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> LogEntry:
        """Strictly build an entry from its JSON object (dispatching on ``type``)."""
        if not isinstance(obj, Mapping):
            raise LogEntryError("entry must be a JSON object")
        type_name = obj.get("type")
        target = _REGISTRY.get(type_name) if type(type_name) is str else None
        if target is None:
            raise LogEntryError(f"unknown entry type {type_name!r}")
        if cls is not LogEntry and target is not cls:
            raise LogEntryError(f"expected a {cls.TYPE} entry, got {type_name}")
        if type(obj.get("v")) is not int or obj["v"] != target.VERSION:
            raise LogEntryError(f"unsupported {type_name} schema version {obj.get('v')!r}")
        schema = _schema(target)
        keys = set(obj) - {"type", "v"}
        if keys != set(schema):
            missing, extra = sorted(set(schema) - keys), sorted(keys - set(schema))
            raise LogEntryError(f"{type_name}: missing fields {missing}, unexpected fields {extra}")
        values = {name: _from_json(name, kind, obj[name]) for name, kind in schema.items()}
        return target(**values)


def registered_types() -> dict[str, type[LogEntry]]:
    """All registered entry types by ``type`` name."""
    return dict(_REGISTRY)


def _reject_constant(token: str) -> Any:
    raise LogEntryError(f"non-finite number {token} in entry")


def _reject_float(token: str) -> Any:
    raise LogEntryError("floating-point numbers are not allowed in entries")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise LogEntryError("duplicate key in entry")
    return out


def parse_entry(data: bytes) -> LogEntry:
    """Parse the canonical JSON bytes of an entry. Raises only ``LogEntryError``."""
    if type(data) is not bytes or len(data) > MAX_ENTRY_BYTES:
        raise LogEntryError("entry must be at most 64 KiB of bytes")
    try:
        obj = json.loads(
            data.decode("utf-8"),
            parse_float=_reject_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicates,
        )
    except LogEntryError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LogEntryError("entry is not valid UTF-8 JSON") from exc
    if not isinstance(obj, dict):
        raise LogEntryError("entry must be a JSON object")
    entry = LogEntry.from_dict(obj)
    if entry.encode() != data:
        raise LogEntryError("entry is not in canonical JSON form")
    return entry


def encode_entry(entry: LogEntry) -> bytes:
    """The canonical JSON bytes of an entry (what the log stores and hashes)."""
    return entry.encode()
