"""Franking on the relay: tag every message, verify abuse reports, open review cases.

``install(app, state)`` adds the send hook (refuses unfranked messages and suspended senders,
tags commitment + env under the monthly key) and mounts ``/v1/reports``. Time comes from
``FrankingState.clock`` (``state.features["franking"]``), which tests may replace.
"""

from __future__ import annotations

from fastapi import FastAPI

from fulcrum.server.franking.hook import FrankingHook, franking_envelope
from fulcrum.server.franking.keys import (
    TagKeyVault,
    attestation_signing_key,
    record_key_event,
    utc_now,
)
from fulcrum.server.franking.reports import router
from fulcrum.server.franking.state import FEATURE, FrankingState, franking_state
from fulcrum.server.state import RelayState
from fulcrum.wire.api import API_PREFIX

__all__ = [
    "FrankingHook",
    "FrankingState",
    "TagKeyVault",
    "franking_envelope",
    "franking_state",
    "install",
    "record_key_event",
]


def install(app: FastAPI, state: RelayState) -> None:
    data_dir = state.settings.data_dir
    feature = FrankingState(
        vault=TagKeyVault.in_data_dir(data_dir),
        attestation_key=attestation_signing_key(data_dir),
        clock=utc_now,
    )
    state.features[FEATURE] = feature
    hook = FrankingHook(vault=feature.vault, clock=lambda: feature.clock())
    state.hooks.send.append(hook)
    if "relay" in state.settings.roles:
        app.include_router(router, prefix=API_PREFIX)
