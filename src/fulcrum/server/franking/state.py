"""The franking feature's per-app state (``RelayState.features["franking"]``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from fulcrum.hazmat.signing import SigningKey
from fulcrum.server.franking.clearinghouse import ClearinghouseSettings
from fulcrum.server.franking.keys import Clock, TagKeyVault
from fulcrum.server.state import RelayState

FEATURE = "franking"


@dataclass
class FrankingState:
    vault: TagKeyVault
    attestation_key: SigningKey
    clock: Clock  # injectable: tests move it to exercise key expiry
    clearinghouse: ClearinghouseSettings = field(default_factory=ClearinghouseSettings)
    reports_received: int = 0
    stats_checked_day: date | None = None  # the last day the lazy stats publisher ran

    def __repr__(self) -> str:  # keys stay out of reprs
        return f"FrankingState(reports_received={self.reports_received})"


def franking_state(state: RelayState) -> FrankingState:
    value = state.features[FEATURE]
    assert isinstance(value, FrankingState)
    return value
