"""Minor protection on the relay (design note 07): contact rules, discovery, notices, groups,
forwarding limits and public rule statistics. See ``docs/minor-protection.md``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from fulcrum.server.errors import error_response
from fulcrum.server.relay.common import now_ms
from fulcrum.server.safety.hooks import SafetyGroupHook, SafetySendHook
from fulcrum.server.safety.invites import router as invites_router
from fulcrum.server.safety.routes import router
from fulcrum.server.safety.service import SafetyRefused, SafetyService
from fulcrum.server.state import RelayState
from fulcrum.wire.api import API_PREFIX

FEATURE = "safety"


def install(app: FastAPI, state: RelayState) -> None:
    service = SafetyService()
    service.hub = state.hub
    state.features[FEATURE] = service
    state.hooks.send.append(SafetySendHook(service))
    state.hooks.group.append(SafetyGroupHook(service))
    app.include_router(router, prefix=API_PREFIX)
    app.include_router(invites_router, prefix=API_PREFIX)

    async def on_refused(_req: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SafetyRefused)

        def keep_bookkeeping() -> None:
            # The refused request rolled back; re-apply its event so the rule's counters, audit
            # record and notices are kept (the refused action itself is not performed). Notices
            # are pushed when this transaction commits.
            ts = now_ms()
            with state.db.write() as session:
                exc.keep_after_rollback(session, ts)

        await run_in_threadpool(keep_bookkeeping)
        return error_response(exc.status, exc.code, exc.message)

    app.add_exception_handler(SafetyRefused, on_refused)


__all__ = ["FEATURE", "SafetyRefused", "SafetyService", "install"]
