"""One router per role; ``create_app`` mounts the routers of the configured roles.

A new role is a module ``routes/<role>.py`` exposing ``build_router() -> APIRouter``, registered in
``ROLE_ROUTERS``. Roles not yet built are listed in ``settings.KNOWN_ROLES`` and refused here.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter

from fulcrum.server.routes import log, relay, review

ROLE_ROUTERS: dict[str, Callable[[], APIRouter]] = {
    "relay": relay.build_router,
    "log": log.build_router,
    "review": review.build_router,
}


def router_for(role: str) -> APIRouter:
    try:
        return ROLE_ROUTERS[role]()
    except KeyError:
        raise ValueError(f"role {role!r} has no router in this build") from None


from fulcrum.server.routes import custodian  # noqa: E402

ROLE_ROUTERS["custodian"] = custodian.build_router

from fulcrum.server.routes import access  # noqa: E402

ROLE_ROUTERS["access"] = access.build_router
