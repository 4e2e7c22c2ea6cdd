"""The app factory: one FastAPI app whose roles are switched on by configuration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

import fulcrum
from fulcrum.server.auth import TokenCache
from fulcrum.server.errors import install_error_handlers
from fulcrum.server.features import install_features
from fulcrum.server.hooks import HookChain
from fulcrum.server.housekeeping import housekeeping_loop
from fulcrum.server.observability import Metrics, RequestLogMiddleware
from fulcrum.server.push import InProcessPushHub, PushHub
from fulcrum.server.routes import router_for
from fulcrum.server.settings import ServerSettings
from fulcrum.server.state import RelayState, relay_state
from fulcrum.store import Database, DeliveryQueue
from fulcrum.wire.api import API_PREFIX, Health

API_TITLE = "Fulcrum"


def operation_id(route: APIRoute) -> str:
    """Stable OpenAPI operation ids: the endpoint function's name."""
    return route.name


def create_app(
    settings: ServerSettings,
    *,
    hooks: HookChain | None = None,
    hub: PushHub | None = None,
    migrate: bool = True,
) -> FastAPI:
    """Build the app for ``settings.roles``; migrations run here (synchronously) by default."""
    if settings.database_url.startswith("sqlite") and settings.db_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.connect(
        settings.database_url,
        pool_size=settings.db_pool_size,
        synchronous=settings.sqlite_synchronous,
    )
    if migrate:
        db.migrate()
    metrics = Metrics()
    state = RelayState(
        settings=settings,
        db=db,
        hub=hub or InProcessPushHub(settings.push_buffer),
        hooks=hooks or HookChain.empty(),
        metrics=metrics,
        tokens=TokenCache(settings.auth_cache_seconds),
    )

    def read_depth() -> int:
        with db.read() as session:
            return DeliveryQueue(session).depth()

    metrics.track_queue_depth(read_depth)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        chores = None
        if settings.housekeeping_seconds > 0:
            chores = asyncio.create_task(housekeeping_loop(state), name="fulcrum-housekeeping")
        try:
            yield
        finally:
            if chores is not None:
                chores.cancel()
                with suppress(asyncio.CancelledError):
                    await chores
            db.dispose()

    app = FastAPI(
        title=API_TITLE,
        version=fulcrum.__version__,
        debug=settings.debug,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_url="/openapi.json",
        docs_url="/docs" if settings.environment == "development" else None,
        redoc_url=None,
    )
    app.state.fulcrum = state
    install_error_handlers(app)
    app.add_middleware(RequestLogMiddleware, metrics=metrics)
    app.include_router(_common_router(), prefix=API_PREFIX)
    for role in settings.roles:
        app.include_router(router_for(role), prefix=API_PREFIX)
    install_features(app, state)

    @app.get("/metrics", include_in_schema=False)
    def metrics_endpoint(request: Request) -> Response:
        registry = relay_state(request.app).metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def app_from_environment() -> FastAPI:
    """``uvicorn --factory fulcrum.server.app:app_from_environment``: the app configured from
    ``FULCRUM_*`` variables, one per worker process (``--workers N``). Run migrations once before
    starting several workers. The in-process push hub reaches only WebSockets held by the same
    worker; with several workers, push needs a shared hub (see ``server/push.py``)."""
    from fulcrum.server.observability import configure_logging

    settings = ServerSettings()
    configure_logging(settings.log_level)
    return create_app(settings)


def _common_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", response_model=Health)
    def health(request: Request) -> Health:
        """Liveness, version and the roles this process serves."""
        settings = relay_state(request.app).settings
        return Health(status="ok", version=fulcrum.__version__, roles=list(settings.roles))

    return router
