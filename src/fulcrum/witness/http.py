"""HTTP face of a stand-alone witness: the C2SP tlog-witness ``add-checkpoint`` request.

Request body (``text/plain``)::

    old <size>
    <consistency proof hash, standard base64>   (one line each, none for a new log)
    <empty line>
    <checkpoint signed note>

Responses: 200 with the cosignature line(s); 409 ``text/x.tlog.size`` with the last cosigned size
when ``old`` is stale; 404 unknown log; 403 bad log signature; 422 rollback, split view or a proof
that does not verify; 400 malformed. Every refusal also carries ``Fulcrum-Refusal: <reason>``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from fulcrum.translog import Witness, WitnessRefusal, WitnessState
from fulcrum.translog.errors import RefusalReason
from fulcrum.translog.note import Verifier, std_b64decode
from fulcrum.witness.store import WitnessStore

ADD_CHECKPOINT_PATH = "/add-checkpoint"
KEY_PATH = "/key"
REFUSAL_HEADER = "Fulcrum-Refusal"
MAX_BODY = 64 * 1024

_STATUS = {
    RefusalReason.UNKNOWN_LOG: 404,
    RefusalReason.BAD_LOG_SIGNATURE: 403,
    RefusalReason.MALFORMED: 400,
    RefusalReason.CONFLICT: 409,
    RefusalReason.ROLLBACK: 422,
    RefusalReason.SPLIT_VIEW: 422,
    RefusalReason.INCONSISTENT: 422,
    RefusalReason.STALE_TIME: 422,
}


def parse_add_checkpoint(body: bytes) -> tuple[int, list[bytes], bytes]:
    """``(old_size, proof, note)`` of a request body, or ``WitnessRefusal(MALFORMED)``."""
    head, sep, note = body.partition(b"\n\n")
    lines = head.split(b"\n")
    if not sep or not lines[0].startswith(b"old "):
        raise WitnessRefusal(RefusalReason.MALFORMED, "body must start with 'old <size>'")
    digits = lines[0][4:]
    if not digits.isdigit() or (digits.startswith(b"0") and digits != b"0") or len(digits) > 19:
        raise WitnessRefusal(RefusalReason.MALFORMED, "bad old size")
    try:
        proof = [std_b64decode(line.decode("ascii")) for line in lines[1:]]
    except (ValueError, UnicodeDecodeError) as exc:
        raise WitnessRefusal(RefusalReason.MALFORMED, "bad proof line") from exc
    if any(len(h) != 32 for h in proof) or len(proof) > 63:
        raise WitnessRefusal(RefusalReason.MALFORMED, "bad proof hash")
    return int(digits), proof, note


def _refusal(exc: WitnessRefusal) -> Response:
    headers = {REFUSAL_HEADER: exc.reason.value}
    if exc.reason is RefusalReason.CONFLICT:
        return PlainTextResponse(
            f"{exc.known_size or 0}\n", 409, headers, media_type="text/x.tlog.size"
        )
    return PlainTextResponse(str(exc) + "\n", _STATUS[exc.reason], headers)


def create_witness_app(
    store: WitnessStore,
    logs: Sequence[Verifier],
    *,
    name: str | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The witness's app: ``POST /add-checkpoint`` and ``GET /key`` (its cosignature vkey)."""
    signer = store.signer(name)
    witness = Witness(signer, logs)
    vkey = signer.verifier().vkey
    app = FastAPI(title="Fulcrum witness", openapi_url=None, docs_url=None, redoc_url=None)

    @app.get(KEY_PATH)
    def key() -> PlainTextResponse:
        return PlainTextResponse(vkey + "\n")

    @app.post(ADD_CHECKPOINT_PATH)
    async def add_checkpoint(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("body too large\n", 413)
        try:
            old_size, proof, note = parse_add_checkpoint(body)
            now = int(clock())

            def step(state: WitnessState) -> tuple[WitnessState, str]:
                done = witness.cosign(state, note, proof, now, old_size)
                return done.state, done.signature.line()

            line = await run_in_threadpool(store.update, step)
        except WitnessRefusal as exc:
            return _refusal(exc)
        return PlainTextResponse(line)

    return app
