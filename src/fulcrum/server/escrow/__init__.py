"""Escrow epoch keys served by in-process trustees (feature ``escrow``).

Escrow is on when ``<data_dir>/escrow/policy.toml`` exists (see ``policy.py``); the server then
runs the trustees' DKG for the current epoch at start-up (``TrusteeCouncil``), logs the epoch key
and serves ``GET /v1/escrow/epoch-key``. Without a policy the endpoint answers 404
``escrow_not_configured`` and clients refuse to send.

When ``FULCRUM_ACCESS_TRUSTEES`` gives a URL for EVERY trustee of the policy, the council is
remote: the DKG runs in the trustees' own processes through a ``DkgCoordinator`` (the operator
token is ``FULCRUM_ACCESS_TRUSTEE_TOKEN``), and a DKG that cannot run at start-up (trustees not up
yet) is retried when the epoch key is next asked for (503 ``epoch_key_unavailable`` meanwhile).
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import APIRouter, FastAPI, Query, Request

from fulcrum.escrow.errors import DkgError
from fulcrum.server.errors import ApiError, error_responses
from fulcrum.server.escrow.coordinator import (
    ROSTER_FILE,
    DkgCoordinator,
    DkgPeer,
    DkgQuorumError,
    RosterError,
    TrusteeRoster,
)
from fulcrum.server.escrow.council import EpochRecord, TrusteeCouncil
from fulcrum.server.escrow.policy import DEFAULT_POLICY, EscrowPolicy, PolicyError
from fulcrum.server.state import RelayState, relay_state
from fulcrum.server.translog import transparency_log
from fulcrum.wire.api import API_PREFIX
from fulcrum.wire.translog import EpochKeyOut

FEATURE = "escrow"
POLICY_FILE = "policy.toml"
LOG = logging.getLogger("fulcrum.escrow")


def remote_coordinator(
    policy: EscrowPolicy, root: Path, urls: dict[int, str], token: str, timeout: float = 30.0
) -> DkgCoordinator | None:
    """A coordinator when ``urls`` (share index -> URL) covers every trustee, else ``None``."""
    if set(urls) != set(range(1, policy.n + 1)):
        return None
    peers = [DkgPeer(i, policy.trustees[i - 1], urls[i], token) for i in sorted(urls)]
    return DkgCoordinator(peers, policy.t, TrusteeRoster(root / ROSTER_FILE), timeout=timeout)


def council_for(state: RelayState) -> TrusteeCouncil | None:
    from fulcrum.server.access.remote import parse_trustee_urls

    settings = state.settings
    root = settings.data_dir / "escrow"
    path = root / POLICY_FILE
    if not path.exists():
        return None
    policy = EscrowPolicy.load(path)
    urls = parse_trustee_urls(settings.access_trustees)
    coordinator = remote_coordinator(policy, root, urls, settings.access_trustee_token,
                                     settings.access_trustee_timeout)  # fmt: skip
    return TrusteeCouncil(policy, root, transparency_log(state), coordinator=coordinator)


def _router() -> APIRouter:
    router = APIRouter(prefix="/escrow", tags=["escrow"])

    @router.get("/epoch-key", response_model=EpochKeyOut, responses=error_responses(404, 503))
    def escrow_epoch_key(
        request: Request, epoch: int | None = Query(default=None, ge=0, lt=2**53)
    ) -> EpochKeyOut:
        """An epoch key (the current one, or an earlier ``epoch`` that recipients need to verify
        a message), its trustee signatures and its cosigned log inclusion proof. Naming an epoch
        never starts a DKG: only epochs the trustees already keyed are served."""
        council = relay_state(request.app).features.get(FEATURE)
        if not isinstance(council, TrusteeCouncil):
            raise ApiError(404, "escrow_not_configured", "this server has no escrow policy")
        if epoch is None:
            try:
                return council.evidence(council.current())
            except DkgError as exc:
                raise ApiError(503, "epoch_key_unavailable", str(exc)) from exc
        record = council.record(epoch)
        if record is None:
            raise ApiError(404, "epoch_unknown", f"no epoch key for epoch {epoch}")
        return council.evidence(record)

    return router


def install(app: FastAPI, state: RelayState) -> None:
    council = council_for(state)
    if council is not None:
        council.init()
        try:
            council.current()
        except DkgError as exc:
            if not council.remote:
                raise
            LOG.warning("remote trustees' DKG did not run at start-up: %s", exc)
        state.features[FEATURE] = council
    app.include_router(_router(), prefix=API_PREFIX)


__all__ = [
    "DEFAULT_POLICY",
    "FEATURE",
    "POLICY_FILE",
    "ROSTER_FILE",
    "DkgCoordinator",
    "DkgPeer",
    "DkgQuorumError",
    "EpochRecord",
    "EscrowPolicy",
    "PolicyError",
    "RosterError",
    "TrusteeCouncil",
    "TrusteeRoster",
    "install",
    "remote_coordinator",
]
