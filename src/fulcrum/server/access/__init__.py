"""Lawful access under warrants (feature ``access``): retention on the relay, the logged warrant
workflow with the in-process trustees, evidence export and target notification.

``install`` puts an ``AccessService`` in ``state.features["access"]`` (when the escrow trustees and
the transparency log are installed), appends the ``RetentionHook`` to the send hooks, and runs
``notify_due`` once at start-up. The routes are the ``access`` role (``server/routes/access.py``).
See docs/warrants.md ("How it is wired").
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from fulcrum.server.access.retention import RetentionHook, purge_retained
from fulcrum.server.access.service import AccessService, WorkflowError
from fulcrum.server.escrow import TrusteeCouncil
from fulcrum.server.state import RelayState
from fulcrum.server.translog import TransparencyLog

FEATURE = "access"
LOG = logging.getLogger("fulcrum.access")


def access_service(state: RelayState) -> AccessService:
    service = state.features.get(FEATURE)
    if not isinstance(service, AccessService):
        raise WorkflowError(404, "access_not_configured", "this server runs no warrant workflow")
    return service


def install(_app: FastAPI, state: RelayState) -> None:
    settings = state.settings
    hook = RetentionHook(state.db, skew_seconds=settings.access_skew_seconds,
                         retrospective_seconds=settings.access_retrospective_seconds)  # fmt: skip
    state.hooks.send.append(hook)
    log, council = state.features.get("translog"), state.features.get("escrow")
    if not isinstance(log, TransparencyLog):
        return
    service = AccessService(
        state.db, log, council if isinstance(council, TrusteeCouncil) else None,
        settings.data_dir / "access",
        retrospective_seconds=settings.access_retrospective_seconds,
        on_activate=hook.invalidate,
    )  # fmt: skip
    from fulcrum.server.access.remote import RemoteTrustee, parse_trustee_urls

    service.remote_trustees = {
        i: RemoteTrustee(i, url, settings.access_trustee_token, settings.access_trustee_timeout)
        for i, url in parse_trustee_urls(settings.access_trustees).items()
    }
    state.features[FEATURE] = service
    from fulcrum.server.access.export import notify_due

    unsealed = notify_due(service)
    if unsealed:
        LOG.info("unsealed %d warrant(s) at start-up", len(unsealed))


__all__ = ["FEATURE", "AccessService", "RetentionHook", "WorkflowError", "access_service",
           "install", "purge_retained"]  # fmt: skip
