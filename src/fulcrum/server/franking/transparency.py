"""Franking and abuse-report events on the transparency log.

* Tag-key rotation and destruction become ``FrankingKeyRotated`` / ``FrankingKeyDestroyed`` entries,
  appended in the same transaction that records the key change (``KeyEventToLog``).
* Each UTC day's abuse-report numbers become one ``AbuseReportStats`` entry
  (``publish_daily_report_stats``), published lazily by the first report of a later day or on
  demand (``POST /v1/review/stats/{day}``, ``fulcrum review publish-stats --day``).

When no log is installed (``state.features["translog"]`` absent) key events stay in
``franking_key_events`` only and stats are kept in ``franking_report_stats`` without an index.

The numbers are checkable from the log alone: ``abuse_report_totals`` sums the daily entries for
any period, and ``cross_check_stats`` compares each day's ``clearinghouse_filed`` with the
``ClearinghouseReportFiled`` entries of that day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fulcrum.encoding import b64d
from fulcrum.franking import ReasonCode
from fulcrum.server.franking.state import franking_state
from fulcrum.server.state import RelayState
from fulcrum.server.translog import FEATURE as LOG_FEATURE
from fulcrum.server.translog import TransparencyLog
from fulcrum.store.franking import (
    ClearinghouseFiling,
    FrankingReportStats,
    Report,
    ReviewCase,
)
from fulcrum.translog import (
    AbuseReportStats,
    ClearinghouseReportFiled,
    FrankingKeyDestroyed,
    FrankingKeyRotated,
    LogEntry,
)
from fulcrum.translog.entries import counts as as_counts

LAZY_BACKFILL_DAYS = 31  # the lazy path publishes at most this many missed days at once
DAY_MS = 86_400_000


def key_event_entry(record: Mapping[str, Any]) -> LogEntry:
    """The log entry for a ``franking_key_events`` record (times in ms -> unix seconds)."""
    at = int(record["at"]) // 1000
    if record["event"] == "franking.key_rotated":
        return FrankingKeyRotated(
            time=at,
            key_id=str(record["kid"]),
            key_commitment=b64d(str(record["key_commitment"]), length=32),
            valid_from=int(record["valid_from"]) // 1000,
        )
    if record["event"] == "franking.key_destroyed":
        return FrankingKeyDestroyed(time=at, key_id=str(record["kid"]))
    raise ValueError(f"unknown franking key event {record['event']!r}")


def installed_log(features: Mapping[str, object]) -> TransparencyLog | None:
    log = features.get(LOG_FEATURE)
    return log if isinstance(log, TransparencyLog) else None


@dataclass
class KeyEventToLog:
    """A ``TagKeyVault`` sink: append the key event to the log inside the caller's transaction.

    Looks the log up at call time (features install in order; the log may come after franking).
    """

    features: MutableMapping[str, object]

    def __call__(self, session: Session, record: dict[str, Any]) -> None:
        log = installed_log(self.features)
        if log is not None:
            log.append_in(session, key_event_entry(record))


# --- daily abuse-report numbers -----------------------------------------------------------------


def day_bounds_ms(day: date) -> tuple[int, int]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return int(start.timestamp() * 1000), int(start.timestamp() * 1000) + DAY_MS


def daily_counts(session: Session, day: date) -> dict[str, int]:
    """The numbers published for one UTC day (every key always present)."""
    start, end = day_bounds_ms(day)
    reports = session.execute(
        select(Report.reason, Report.verified, Report.involves_child).where(
            Report.received_at >= start, Report.received_at < end
        )
    ).all()
    out: Counter[str] = Counter({f"reason.{r.value}": 0 for r in ReasonCode})
    out["received"] = len(reports)
    out["verified"] = sum(1 for r in reports if r.verified)
    out["not_verified"] = out["received"] - out["verified"]
    out["involves_child"] = sum(1 for r in reports if r.involves_child)
    for r in reports:
        out[f"reason.{r.reason}"] += 1
    out["cases_opened"] = (
        session.scalar(
            select(func.count())
            .select_from(ReviewCase)
            .where(ReviewCase.created_at >= start, ReviewCase.created_at < end)
        )
        or 0
    )
    out["clearinghouse_filed"] = (
        session.scalar(
            select(func.count())
            .select_from(ClearinghouseFiling)
            .where(ClearinghouseFiling.filed_at >= start, ClearinghouseFiling.filed_at < end)
        )
        or 0
    )
    return dict(out)


class StatsNotReady(ValueError):
    """The day has not ended yet (its numbers could still change)."""


def publish_stats_in(
    session: Session, log: TransparencyLog | None, day: date, now: datetime
) -> FrankingReportStats:
    """Publish ``day``'s numbers once (idempotent: an existing row is returned unchanged)."""
    start, end = day_bounds_ms(day)
    now_ms = int(now.timestamp() * 1000)
    if end > now_ms:
        raise StatsNotReady(f"{day.isoformat()} has not ended yet")
    existing = session.get(FrankingReportStats, day.isoformat())
    if existing is not None:
        return existing
    counts = daily_counts(session, day)
    index = None
    if log is not None:
        entry = AbuseReportStats(
            time=now_ms // 1000,
            period_start=start // 1000,
            period_end=end // 1000,
            counts=as_counts(counts),
        )
        index = log.append_in(session, entry)
    row = FrankingReportStats(
        day=day.isoformat(), log_index=index, counts=counts, published_at=now_ms
    )
    session.add(row)
    session.flush()
    return row


def publish_daily_report_stats(state: RelayState, day: date) -> FrankingReportStats:
    """Publish ``day``'s numbers (own transaction; time from the franking feature's clock)."""
    now = franking_state(state).clock()
    with state.db.write() as session:
        row = publish_stats_in(session, installed_log(state.features), day, now)
        session.expunge(row)
    return row


def publish_missed_days(
    session: Session, log: TransparencyLog | None, now: datetime
) -> list[FrankingReportStats]:
    """The lazy path: publish every unpublished day from the first day with a report (at most
    ``LAZY_BACKFILL_DAYS`` back) up to yesterday."""
    today = now.astimezone(UTC).date()
    last = session.scalar(select(func.max(FrankingReportStats.day)))
    first_ms = session.scalar(select(func.min(Report.received_at)))
    if first_ms is None:
        return []
    first = datetime.fromtimestamp(first_ms / 1000, tz=UTC).date()
    if last is not None:
        first = max(first, date.fromisoformat(last) + timedelta(days=1))
    first = max(first, today - timedelta(days=LAZY_BACKFILL_DAYS))
    out = []
    day = first
    while day < today:
        out.append(publish_stats_in(session, log, day, now))
        day += timedelta(days=1)
    return out


# --- what an auditor recomputes from the log alone --------------------------------------------


def abuse_report_totals(entries: Iterable[LogEntry], start: int, end: int) -> dict[str, int]:
    """Sum of every ``AbuseReportStats`` count for the days inside [start, end) (unix seconds)."""
    out: Counter[str] = Counter()
    for e in entries:
        if isinstance(e, AbuseReportStats) and start <= e.period_start and e.period_end <= end:
            for name, value in e.counts:
                out[name] += value
    return dict(out)


def cross_check_stats(entries: Iterable[LogEntry]) -> list[str]:
    """Days whose ``clearinghouse_filed`` differs from the ``ClearinghouseReportFiled`` entries
    timed in that day, or whose received != verified + not_verified."""
    listed = list(entries)
    filed = [e.time for e in listed if isinstance(e, ClearinghouseReportFiled)]
    problems = []
    for e in listed:
        if not isinstance(e, AbuseReportStats):
            continue
        c = dict(e.counts)
        seen = sum(1 for t in filed if e.period_start <= t < e.period_end)
        if c.get("clearinghouse_filed", 0) != seen:
            problems.append(f"{e.period_start}: clearinghouse_filed {c.get('clearinghouse_filed')}")
        if c.get("received", 0) != c.get("verified", 0) + c.get("not_verified", 0):
            problems.append(f"{e.period_start}: received != verified + not_verified")
    return problems
