"""What one app instance holds: settings, database, push hub, hooks, metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fulcrum.server.hooks import HookChain
from fulcrum.server.observability import Metrics
from fulcrum.server.push import PushHub
from fulcrum.server.settings import ServerSettings
from fulcrum.store import Database

if TYPE_CHECKING:
    from fulcrum.server.auth import TokenCache


@dataclass
class RelayState:
    settings: ServerSettings
    db: Database
    hub: PushHub
    hooks: HookChain
    metrics: Metrics
    tokens: TokenCache
    features: dict[str, Any] = field(default_factory=dict)  # per-feature state, by name


def relay_state(app: Any) -> RelayState:
    state = app.state.fulcrum
    assert isinstance(state, RelayState)
    return state
