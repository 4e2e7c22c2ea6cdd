"""Franking on the relay: tag every message, verify abuse reports, open review cases.

``install(app, state)`` adds the send hook (refuses unfranked messages and suspended senders,
tags commitment + env under the monthly key), routes tag-key events to the transparency log,
mounts ``/v1/reports`` (relay role) and ``/v1/review/stats/{day}`` (review role). The
clearinghouse endpoint and retention come from ``FULCRUM_CLEARINGHOUSE_*``. Time comes from
``FrankingState.clock`` (``state.features["franking"]``), which tests may replace.
"""

from __future__ import annotations

from fastapi import FastAPI

from fulcrum.server.franking.clearinghouse import ClearinghouseSettings
from fulcrum.server.franking.hook import FrankingHook, franking_envelope
from fulcrum.server.franking.keys import (
    TagKeyVault,
    attestation_signing_key,
    record_key_event,
    utc_now,
)
from fulcrum.server.franking.reports import router
from fulcrum.server.franking.state import FEATURE, FrankingState, franking_state
from fulcrum.server.franking.stats_routes import router as stats_router
from fulcrum.server.franking.transparency import KeyEventToLog, publish_daily_report_stats
from fulcrum.server.state import RelayState
from fulcrum.wire.api import API_PREFIX

__all__ = [
    "ClearinghouseSettings",
    "FrankingHook",
    "FrankingState",
    "TagKeyVault",
    "franking_envelope",
    "franking_state",
    "install",
    "publish_daily_report_stats",
    "record_key_event",
]


def install(app: FastAPI, state: RelayState) -> None:
    data_dir = state.settings.data_dir
    feature = FrankingState(
        vault=TagKeyVault.in_data_dir(data_dir),
        attestation_key=attestation_signing_key(data_dir),
        clock=utc_now,
        clearinghouse=ClearinghouseSettings(),
    )
    feature.vault.sinks.append(KeyEventToLog(state.features))
    state.features[FEATURE] = feature
    hook = FrankingHook(vault=feature.vault, clock=lambda: feature.clock())
    state.hooks.send.append(hook)
    if "relay" in state.settings.roles:
        app.include_router(router, prefix=API_PREFIX)
    if "review" in state.settings.roles:
        app.include_router(stats_router, prefix=API_PREFIX)
