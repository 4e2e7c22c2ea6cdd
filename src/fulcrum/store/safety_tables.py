"""Minor protection (design note 07): the ``safety_*`` tables (migration 0003), JSON codecs.

Only metadata lives here: account ids, times, counters, flags and rule decisions. No table holds
message content. Age data (birth year, country, creation time) stay in the relay's ``accounts``
table. Sliding windows are stored as JSON lists of timestamps, pruned to their window every time
they are written. The store over these tables is ``fulcrum.store.safety.SqlSafetyStore``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from fulcrum.safety.decisions import RuleId
from fulcrum.safety.store import AdultSignals
from fulcrum.safety.windows import DistinctWindow, SlidingCount
from fulcrum.store.models import Base, BigId


class SafetyAccount(Base):
    """What the engine adds to an account: bans and links (age data stay in ``accounts``)."""

    __tablename__ = "safety_accounts"

    account: Mapped[str] = mapped_column(String(32), primary_key=True)
    banned: Mapped[str | None] = mapped_column(String(32))
    links: Mapped[list[Any]] = mapped_column(JSON, default=list)
    utc_offset_minutes: Mapped[int | None] = mapped_column(Integer)


class SafetyConnection(Base):
    """A contact request and its outcome, one row per unordered pair (a < b)."""

    __tablename__ = "safety_connections"

    a: Mapped[str] = mapped_column(String(32), primary_key=True)
    b: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    request_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    requester: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[float] = mapped_column(Float)
    decided_at: Mapped[float | None] = mapped_column(Float)
    request_messages: Mapped[int] = mapped_column(Integer, default=0)


class SafetyBlock(Base):
    __tablename__ = "safety_blocks"

    blocker: Mapped[str] = mapped_column(String(32), primary_key=True)
    blocked: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    at: Mapped[float] = mapped_column(Float)


class SafetyPair(Base):
    """Per-pair counters for messages from ``sender`` to the minor ``recipient``."""

    __tablename__ = "safety_pairs"

    sender: Mapped[str] = mapped_column(String(32), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_at: Mapped[float] = mapped_column(Float)  # first contact time
    messages: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[float] = mapped_column(Float)
    first_media_at: Mapped[float | None] = mapped_column(Float)
    burst: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"window": s, "times": [...]}


class SafetyMinorChat(Base):
    __tablename__ = "safety_minor_chats"

    adult: Mapped[str] = mapped_column(String(32), primary_key=True)
    minor: Mapped[str] = mapped_column(String(32), primary_key=True)


class SafetySignals(Base):
    """An adult's suspicious-adult signals (rule 3): windows, sets and flags as JSON."""

    __tablename__ = "safety_signals"

    account: Mapped[str] = mapped_column(String(32), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class SafetyForward(Base):
    __tablename__ = "safety_forwards"

    sender: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation: Mapped[str] = mapped_column(String(90), primary_key=True)
    started_at: Mapped[float] = mapped_column(Float, index=True)


class SafetyNoticeSent(Base):
    __tablename__ = "safety_notices_sent"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    notify: Mapped[str] = mapped_column(String(32), primary_key=True)
    other: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[float] = mapped_column(Float)


class SafetyReport(Base):
    __tablename__ = "safety_reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reporter: Mapped[str] = mapped_column(String(32))
    reported: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[float] = mapped_column(Float)
    involves_child: Mapped[bool] = mapped_column(Boolean, default=False)
    report_id: Mapped[str | None] = mapped_column(String(64))
    conversation: Mapped[str | None] = mapped_column(String(90))


class SafetyDecisionCount(Base):
    __tablename__ = "safety_decision_counts"

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    action: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SafetyDecision(Base):
    """The audit record of one rule decision: rule, action, explanation, evidence, thresholds."""

    __tablename__ = "safety_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    rule_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(32), index=True)
    notify: Mapped[str | None] = mapped_column(String(32))
    explanation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON)
    priority: Mapped[str | None] = mapped_column(String(16))


class SafetyInvite(Base):
    """A group invite link (rule 5): single use, expires. Only the token's SHA-256 is stored."""

    __tablename__ = "safety_invites"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(48), index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_by: Mapped[str | None] = mapped_column(String(32))
    used_at: Mapped[int | None] = mapped_column(BigInteger)


class SafetyStatsPublished(Base):
    """Which (day, rule) counts went to the transparency log, at which index (publish once)."""

    __tablename__ = "safety_stats_published"

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    log_index: Mapped[int] = mapped_column(BigInteger)
    published_at: Mapped[int] = mapped_column(BigInteger)


def upsert(
    session: Session, model: type[Base], values: dict[str, Any], keys: tuple[str, ...]
) -> None:
    """Insert or update one row by primary key (native ON CONFLICT on SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(model).values(**values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(model).values(**values)
    rest = {k: stmt.excluded[k] for k in values if k not in keys}
    if rest:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=rest)
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(stmt)


# ---- window (de)serialisation --------------------------------------------------------------


def sliding_json(w: SlidingCount) -> dict[str, Any]:
    times = list(w._times)
    if times:
        horizon = times[-1] - w.window
        times = [t for t in times if t > horizon]
    return {"window": w.window, "times": times}


def sliding_from_json(data: dict[str, Any]) -> SlidingCount:
    w = SlidingCount(float(data["window"]))
    w._times.extend(float(t) for t in data["times"])
    return w


def _distinct_json(w: DistinctWindow) -> dict[str, Any]:
    events = list(w._events)
    if events:
        horizon = events[-1][0] - w.window
        events = [e for e in events if e[0] > horizon]
    return {"window": w.window, "events": [[t, k] for t, k in events]}


def _distinct(data: dict[str, Any]) -> DistinctWindow:
    w = DistinctWindow(float(data["window"]))
    for t, k in data["events"]:
        w._events.append((float(t), str(k)))
        w._counts[k] = w._counts.get(k, 0) + 1
    return w


_NOT_STORED = ("account_id", "cache", "cache_until")  # the criteria cache is recomputed


def _value_json(value: Any) -> Any:
    if isinstance(value, DistinctWindow):
        return {"t": "window", "v": _distinct_json(value)}
    if isinstance(value, frozenset):
        return {"t": "rules", "v": sorted(str(r) for r in value)}
    if isinstance(value, set):
        return {"t": "set", "v": sorted(value)}
    if isinstance(value, tuple):
        return {"t": "tuple", "v": list(value)}
    return {"t": "plain", "v": value}


def _value(data: Any) -> Any:
    kind, v = data["t"], data["v"]
    if kind == "window":
        return _distinct(v)
    if kind == "rules":
        return frozenset(RuleId(r) for r in v)
    if kind == "set":
        return set(v)
    if kind == "tuple":
        return tuple(v)
    return v


def signals_json(s: AdultSignals) -> dict[str, Any]:
    """Every stored field of ``AdultSignals``, tagged by kind (follows the dataclass's fields)."""
    return {
        f.name: _value_json(getattr(s, f.name))
        for f in dataclasses.fields(s)
        if f.name not in _NOT_STORED
    }


def signals_from_json(account: str, data: dict[str, Any]) -> AdultSignals:
    names = {f.name for f in dataclasses.fields(AdultSignals)}
    values = {k: _value(v) for k, v in data.items() if k in names}
    return AdultSignals(account_id=account, **values)


__all__ = [
    "SafetyAccount",
    "SafetyBlock",
    "SafetyConnection",
    "SafetyDecision",
    "SafetyDecisionCount",
    "SafetyForward",
    "SafetyInvite",
    "SafetyMinorChat",
    "SafetyNoticeSent",
    "SafetyPair",
    "SafetyReport",
    "SafetySignals",
    "SafetyStatsPublished",
    "signals_from_json",
    "signals_json",
    "sliding_from_json",
    "sliding_json",
    "upsert",
]
