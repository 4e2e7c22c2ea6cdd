"""The log role: checkpoints, entries, inclusion and consistency proofs, and the log's keys.

Everything here is public (no authentication): the log exists to be mirrored by anyone.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from fulcrum.encoding import b64e
from fulcrum.server.errors import ApiError, error_responses, invalid, not_found
from fulcrum.server.state import relay_state
from fulcrum.server.translog import CheckpointRefused, TransparencyLog, transparency_log
from fulcrum.translog import ProofError
from fulcrum.wire.translog import (
    MAX_ENTRIES_PER_PAGE,
    ConsistencyProofOut,
    InclusionProofOut,
    LogEntries,
    LogKeys,
)


def _log(request: Request) -> TransparencyLog:
    try:
        return transparency_log(relay_state(request.app))
    except RuntimeError:
        raise not_found("this server keeps no transparency log") from None


def build_router() -> APIRouter:
    router = APIRouter(prefix="/log", tags=["log"])

    @router.get(
        "/checkpoint", response_class=PlainTextResponse, responses=error_responses(404, 503)
    )
    def log_checkpoint(request: Request) -> PlainTextResponse:
        """The latest checkpoint as a signed note with its witness cosignatures."""
        try:
            note = _log(request).checkpoint().note
        except CheckpointRefused as exc:
            raise ApiError(503, "checkpoint_refused", str(exc)) from exc
        return PlainTextResponse(note.decode("utf-8"))

    @router.get("/keys", response_model=LogKeys, responses=error_responses(404))
    def log_keys(request: Request) -> LogKeys:
        """The log's verifier key and its witnesses' keys (pin them; fetching is TOFU)."""
        log = _log(request)
        return LogKeys(
            origin=log.origin,
            log_vkey=log.verifier.vkey,
            witness_vkeys=[w.vkey for w in log.witness_verifiers()],
            min_witnesses=log.min_witnesses,
        )

    @router.get("/entries", response_model=LogEntries, responses=error_responses(404))
    def log_entries(
        request: Request, start: int = Query(ge=0), end: int = Query(ge=0)
    ) -> LogEntries:
        """Entries [start, end) (at most 1000 per call; fewer at the end of the log)."""
        if end < start:
            raise invalid("end must not be below start")
        end = min(end, start + MAX_ENTRIES_PER_PAGE)
        return LogEntries(start=start, entries=[b64e(e) for e in _log(request).entries(start, end)])

    @router.get(
        "/proof/inclusion", response_model=InclusionProofOut, responses=error_responses(404)
    )
    def log_inclusion_proof(
        request: Request, index: int = Query(ge=0), size: int = Query(ge=1)
    ) -> InclusionProofOut:
        """RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` entries."""
        log = _log(request)
        if size > log.size() or index >= size:
            raise invalid("need index < size <= current tree size")
        try:
            leaf, proof = log.inclusion_proof(index, size)
        except ProofError as exc:
            raise invalid(str(exc)) from exc
        return InclusionProofOut(
            index=index, size=size, leaf_hash=b64e(leaf), proof=[b64e(p) for p in proof]
        )

    @router.get(
        "/proof/consistency", response_model=ConsistencyProofOut, responses=error_responses(404)
    )
    def log_consistency_proof(
        request: Request,
        from_size: int = Query(alias="from", ge=0),
        to_size: int = Query(alias="to", ge=0),
    ) -> ConsistencyProofOut:
        """RFC 9162 consistency proof from tree size ``from`` to ``to``."""
        log = _log(request)
        if not from_size <= to_size <= log.size():
            raise invalid("need from <= to <= current tree size")
        try:
            proof = log.consistency_proof(from_size, to_size) if from_size else []
        except ProofError as exc:
            raise invalid(str(exc)) from exc
        return ConsistencyProofOut(
            from_size=from_size, to_size=to_size, proof=[b64e(p) for p in proof]
        )

    return router
