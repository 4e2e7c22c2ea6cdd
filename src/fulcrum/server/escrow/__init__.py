"""Escrow epoch keys served by in-process trustees (feature ``escrow``).

Escrow is on when ``<data_dir>/escrow/policy.toml`` exists (see ``policy.py``); the server then
runs the trustees' DKG for the current epoch at start-up (``TrusteeCouncil``), logs the epoch key
and serves ``GET /v1/escrow/epoch-key``. Without a policy the endpoint answers 404
``escrow_not_configured`` and clients refuse to send.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Query, Request

from fulcrum.server.errors import ApiError, error_responses
from fulcrum.server.escrow.council import EpochRecord, TrusteeCouncil
from fulcrum.server.escrow.policy import DEFAULT_POLICY, EscrowPolicy, PolicyError
from fulcrum.server.state import RelayState, relay_state
from fulcrum.server.translog import transparency_log
from fulcrum.wire.api import API_PREFIX
from fulcrum.wire.translog import EpochKeyOut

FEATURE = "escrow"
POLICY_FILE = "policy.toml"


def council_for(state: RelayState) -> TrusteeCouncil | None:
    root = state.settings.data_dir / "escrow"
    path = root / POLICY_FILE
    if not path.exists():
        return None
    return TrusteeCouncil(EscrowPolicy.load(path), root, transparency_log(state))


def _router() -> APIRouter:
    router = APIRouter(prefix="/escrow", tags=["escrow"])

    @router.get("/epoch-key", response_model=EpochKeyOut, responses=error_responses(404))
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
            return council.evidence(council.current())
        record = council.record(epoch)
        if record is None:
            raise ApiError(404, "epoch_unknown", f"no epoch key for epoch {epoch}")
        return council.evidence(record)

    return router


def install(app: FastAPI, state: RelayState) -> None:
    council = council_for(state)
    if council is not None:
        council.init()
        council.current()
        state.features[FEATURE] = council
    app.include_router(_router(), prefix=API_PREFIX)


__all__ = [
    "DEFAULT_POLICY",
    "FEATURE",
    "POLICY_FILE",
    "EpochRecord",
    "EscrowPolicy",
    "PolicyError",
    "TrusteeCouncil",
    "install",
]
