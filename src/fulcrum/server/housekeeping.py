"""Periodic housekeeping: retention rules applied by the server itself, not by hand.

Every ``FULCRUM_HOUSEKEEPING_SECONDS`` (0 = off) each server process, on a worker thread:
* deletes the routing metadata of messages delivered to every device and older than
  ``FULCRUM_METADATA_RETENTION_DAYS`` (``fulcrum.store.message_retention``), in chunks of one
  transaction each;
* with the warrant workflow installed, deletes window-only lawful-access retention records older
  than the retrospective window that no active warrant needs (``purge_retained``; with the switch
  off that is every such record).
Only counts are logged. Several workers may run it at once: each deletion is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import anyio.to_thread

from fulcrum.server.state import RelayState
from fulcrum.store.message_retention import CHUNK, purge_delivered

LOG = logging.getLogger("fulcrum.housekeeping")
DAY_MS = 86_400_000
MAX_CHUNKS = 200  # per run: a backlog is worked off over several runs, never in one long lock


@dataclass(frozen=True)
class HousekeepingReport:
    messages: int  # relay message rows (with their queue rows and links) deleted
    retained: int  # lawful-access window records deleted


def run_housekeeping(state: RelayState, now_ms: int) -> HousekeepingReport:
    settings = state.settings
    cutoff = now_ms - settings.metadata_retention_days * DAY_MS
    messages = 0
    for _ in range(MAX_CHUNKS):
        with state.db.write() as session:
            deleted = purge_delivered(session, before_ms=cutoff, limit=CHUNK)
        messages += deleted
        if deleted < CHUNK:
            break
    retained = 0
    if "access" in state.features:
        from fulcrum.server.access.retention import purge_retained

        retained = purge_retained(
            state.db, now_ms=now_ms, retrospective_seconds=settings.access_retrospective_seconds
        )
    if messages or retained:
        LOG.info("housekeeping: %d delivered messages and %d retention records deleted",
                 messages, retained)  # fmt: skip
    return HousekeepingReport(messages, retained)


async def housekeeping_loop(state: RelayState) -> None:
    """Run ``run_housekeeping`` every ``housekeeping_seconds`` until cancelled; a failed run is
    logged and retried at the next tick."""
    period = state.settings.housekeeping_seconds
    while True:
        await asyncio.sleep(period)
        try:
            await anyio.to_thread.run_sync(run_housekeeping, state, int(time.time() * 1000))
        except Exception:  # keep serving; the next run tries again
            LOG.exception("housekeeping run failed")
