"""Aggregate rule counts to the transparency log (design note 07: "aggregate counts go to the
transparency report").

``publish_day`` appends, for one finished UTC day, one ``SafetyRuleStats`` entry per rule that
decided anything that day: ``counts`` maps each action to its number of decisions, the period is
``[day * 86400, (day + 1) * 86400)``. Nothing about accounts is logged. Each entry is appended in
the same transaction as its ``safety_stats_published`` row, so a day is published once, whole;
publishing it again returns the same log indexes. Auditors recompute: ``recompute_day`` takes the
log's entries and the public ``GET /v1/safety/stats`` numbers for that day and lists every
difference (``rule_stats_mismatches``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fulcrum.safety import RuleStats
from fulcrum.safety.core import DAY
from fulcrum.server.safety.service import SafetyService
from fulcrum.server.settings import ServerSettings
from fulcrum.server.state import RelayState
from fulcrum.server.translog import open_log as open_server_log
from fulcrum.server.translog.service import TransparencyLog
from fulcrum.store import Database
from fulcrum.store.safety_tables import SafetyStatsPublished
from fulcrum.translog import LogEntry, SafetyRuleStats, counts, parse_entry


class PublishError(ValueError):
    """The day cannot be published (not over yet, or no transparency log installed)."""


def open_log(settings: ServerSettings, db: Database) -> TransparencyLog:
    """The server's transparency log, opened from its data dir (for operator commands), with
    the same in-process and remote witnesses as the server's own log."""
    return open_server_log(
        settings.data_dir,
        db,
        settings.log_witnesses,
        settings.log_inprocess_witnesses,
        settings.log_witness_timeout,
    )


def publish_in_app(state: RelayState, day: int, now: float) -> dict[str, int]:
    """``publish_day`` with the app's database, safety service and log feature."""
    log = state.features.get("translog")
    service = state.features.get("safety")
    if not isinstance(log, TransparencyLog) or not isinstance(service, SafetyService):
        raise PublishError("the safety and transparency log features must be installed")
    return publish_day(state.db, log, service, day, now)


def day_entries(stats: RuleStats, time: int) -> list[SafetyRuleStats]:
    """One ``SafetyRuleStats`` per rule in ``stats`` (which must cover exactly one day)."""
    if stats.first_day != stats.last_day:
        raise PublishError("rule statistics are published one UTC day at a time")
    start = int(stats.first_day * DAY)
    by_rule: dict[str, dict[str, int]] = {}
    for c in stats.counts:
        by_rule.setdefault(c.rule_id.value, {})[c.action.value] = c.count
    return [
        SafetyRuleStats(
            time=time,
            rule_id=rule,
            period_start=start,
            period_end=start + int(DAY),
            counts=counts(by_action),
        )
        for rule, by_action in sorted(by_rule.items())
    ]


def publish_day(
    db: Database, log: TransparencyLog, service: SafetyService, day: int, now: float
) -> dict[str, int]:
    """Append day ``day``'s per-rule counts to ``log``; return ``{rule_id: log index}``.
    Idempotent: rules already published for the day keep their index."""
    if (day + 1) * DAY > now:
        raise PublishError(f"day {day} is not over yet; publish finished UTC days only")
    with db.write() as session:
        done = {
            row.rule_id: row.log_index
            for row in session.query(SafetyStatsPublished).filter_by(day=day)
        }
        stats = service.engine(session).rule_stats(day * DAY, day * DAY)
        for entry in day_entries(stats, int(now)):
            if entry.rule_id in done:
                continue
            index = log.append_in(session, entry)
            session.add(
                SafetyStatsPublished(
                    day=day,
                    rule_id=entry.rule_id,
                    counts=dict(entry.counts),
                    log_index=index,
                    published_at=int(now * 1000),
                )
            )
            done[entry.rule_id] = index
    return dict(sorted(done.items()))


def logged_day(entries: Iterable[bytes | LogEntry], day: int) -> dict[str, dict[str, int]]:
    """``{rule_id: {action: count}}`` from the log's ``SafetyRuleStats`` entries for ``day``."""
    out: dict[str, dict[str, int]] = {}
    for raw in entries:
        entry = parse_entry(raw) if isinstance(raw, bytes) else raw
        if isinstance(entry, SafetyRuleStats) and entry.period_start == int(day * DAY):
            out.setdefault(entry.rule_id, {}).update(dict(entry.counts))
    return out


def rule_stats_mismatches(
    logged: Mapping[str, Mapping[str, int]], published: Mapping[str, Mapping[str, int]]
) -> list[str]:
    """Every (rule, action) whose logged count differs from the served statistics."""
    out = []
    for rule in sorted(set(logged) | set(published)):
        a, b = logged.get(rule, {}), published.get(rule, {})
        for action in sorted(set(a) | set(b)):
            if a.get(action, 0) != b.get(action, 0):
                out.append(f"{rule}/{action}: log {a.get(action, 0)}, stats {b.get(action, 0)}")
    return out


def recompute_day(
    entries: Iterable[bytes | LogEntry], day: int, published: Mapping[str, Mapping[str, int]]
) -> list[str]:
    """An auditor's check of one day: the log's entries against the served statistics."""
    return rule_stats_mismatches(logged_day(entries, day), published)


__all__ = [
    "PublishError",
    "day_entries",
    "logged_day",
    "open_log",
    "publish_day",
    "publish_in_app",
    "recompute_day",
    "rule_stats_mismatches",
]
