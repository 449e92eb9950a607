"""The ASGI application factory: the one place that wires the parts together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from modelsnest import __version__
from modelsnest.api import files, health
from modelsnest.api import v1 as api_v1
from modelsnest.api.errors import install_error_handlers
from modelsnest.api.fast_lane import FastLane
from modelsnest.db.migrate import check_schema_current
from modelsnest.gateway.service import Gateway
from modelsnest.gateway.video import run_video_poller
from modelsnest.observability.logging import configure_logging
from modelsnest.observability.middleware import RequestIdMiddleware
from modelsnest.runtime import Runtime
from modelsnest.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Parts that need start-up/shut-down work register a hook here (gateway, limits, sweeper).
StartupHook = Callable[[Runtime], Awaitable[Callable[[], Awaitable[None]] | None]]


def create_app(
    settings: Settings | None = None, *, startup_hooks: list[StartupHook] | None = None
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    hooks = list(startup_hooks or [])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.create(settings)
        await check_schema_current(runtime.engine)
        settings.resolved_secret_key()
        app.state.runtime = runtime
        gateway = Gateway.create(settings, runtime.sessions)
        gateway.start(run_video_poller(gateway))
        app.state.gateway = gateway
        closers = []
        for hook in hooks:
            closer = await hook(runtime)
            if closer is not None:
                closers.append(closer)
        log.info("modelsnest %s ready", __version__)
        try:
            yield
        finally:
            for closer in reversed(closers):
                await closer()
            await gateway.close()
            await runtime.close()

    app = FastAPI(
        title="Modelsnest",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(api_v1.router)
    app.include_router(files.router)
    # Added first, so it runs inside RequestIdMiddleware (which every request passes first).
    app.add_middleware(FastLane)
    app.add_middleware(RequestIdMiddleware)
    return app
