"""The ASGI application factory: the one place that wires the parts together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from modelsnest import __version__, background
from modelsnest.api import files, health, webhooks
from modelsnest.api import v1 as api_v1
from modelsnest.api.errors import install_error_handlers
from modelsnest.api.lane import FastLane
from modelsnest.api.openapi import install_openapi
from modelsnest.auth.accounts import AccountPolicy, Accounts
from modelsnest.auth.key_verifier import ApiKeyVerifier
from modelsnest.auth.signing import Signer
from modelsnest.auth.web_sessions import SessionPolicy
from modelsnest.billing.hot import create_hot_ledger
from modelsnest.billing.hot.metered import MeteredLedger
from modelsnest.catalog.cache import CatalogCache
from modelsnest.catalog.listing import ModelDirectory
from modelsnest.contact import ContactDesk
from modelsnest.content import ContentLibrary
from modelsnest.crypto import SecretBox
from modelsnest.db.engine import create_engine, create_session_factory
from modelsnest.db.migrate import check_schema_current
from modelsnest.gateway.limits import RateLimits
from modelsnest.gateway.pool import ProviderPool
from modelsnest.gateway.routing import CircuitBreaker
from modelsnest.gateway.service import Gateway
from modelsnest.gc_tuning import tune_collector
from modelsnest.health import StatusBoard
from modelsnest.mail import Mailer, OutboxTransport, SmtpTransport, Transport
from modelsnest.media.storage import MediaStore
from modelsnest.notifications.alerts import AlertWatcher
from modelsnest.observability.logging import configure_logging
from modelsnest.observability.middleware import RequestIdMiddleware
from modelsnest.payments import Payments
from modelsnest.services import Services
from modelsnest.settings import Settings, get_settings
from modelsnest.store import Store
from modelsnest.tasks import TaskSet
from modelsnest.web.setup import install_web
from modelsnest.web.static import StaticAssets
from modelsnest.web.templating import create_pages

log = logging.getLogger(__name__)


def build_mail_transport(settings: Settings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(
            host=settings.smtp_host,
            port=settings.resolved_smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            ssl=settings.smtp_ssl,
            timeout=settings.smtp_timeout_seconds,
        )
    return OutboxTransport(settings.var_dir / "outbox")


def build_services(
    settings: Settings, assets: StaticAssets | None = None, content: ContentLibrary | None = None
) -> Services:
    """Every long-lived object of this process (nothing is started here)."""
    engine = create_engine(settings.async_database_url, pool_size=settings.db_pool_size)
    sessions = create_session_factory(engine)
    redis = None
    if settings.redis_url:
        import redis.asyncio as aioredis

        redis = aioredis.Redis.from_url(settings.redis_url)
    secret_key = settings.resolved_secret_key()
    box = SecretBox(secret_key)
    tasks = TaskSet()
    limits = RateLimits(settings.redis_url, settings.redis_key_prefix, redis)
    mailer = Mailer(build_mail_transport(settings), settings.mail_from, tasks)
    payments = Payments.from_settings(settings, sessions)
    alerts = AlertWatcher(sessions, mailer=mailer, site_url=settings.site_url)

    def on_charged(user_id: int, balance_nanos: int) -> None:
        payments.notify_spent(user_id)
        alerts.notify(user_id, balance_nanos)

    gateway = Gateway(
        settings=settings,
        sessions=sessions,
        catalog=CatalogCache(sessions, box, ttl_seconds=settings.cache_ttl_seconds),
        limits=limits,
        breaker=CircuitBreaker(
            threshold=settings.circuit_failure_threshold,
            cooldown_seconds=settings.circuit_cooldown_seconds,
        ),
        pool=ProviderPool(),
        media=MediaStore(sessions, settings.var_dir / "media", "", ttl_seconds=settings.media_ttl_seconds),
        ledger=MeteredLedger(
            create_hot_ledger(settings.async_database_url, sessions, pool_size=settings.db_pool_size)
        ),
        tasks=tasks,
        on_charged=on_charged,
    )
    gateway.breaker.on_event = gateway.health_events.put_nowait
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        redis=redis,
        keys=ApiKeyVerifier(sessions, ttl_seconds=settings.cache_ttl_seconds),
        gateway=gateway,
        tasks=tasks,
        accounts=Accounts(
            sessions,
            box=box,
            signer=Signer(secret_key),
            mailer=mailer,
            throttle=limits,
            policy=AccountPolicy(
                sessions=SessionPolicy.of_hours(settings.session_idle_hours, settings.session_max_days),
                email_verification=settings.email_verification_required,
                signup_bonus_nanos=settings.signup_bonus_nanos,
                admin_require_2fa=settings.admin_require_2fa,
            ),
        ),
        mailer=mailer,
        pages=create_pages(settings, assets),
        payments=payments,
        content=content or ContentLibrary.from_settings(settings),
        directory=ModelDirectory(sessions, gateway.catalog),
        status=StatusBoard(sessions),
        contact=ContactDesk(sessions, mailer, limits, settings.contact_email),
        alerts=alerts,
        store=Store(gateway, box),
    )


async def close_services(services: Services) -> None:
    """Finish spawned work (stream settlements), stop the loops, then close the clients."""
    await services.accounts.drain()
    await services.tasks.close(drain_seconds=services.settings.stream_drain_seconds + 5)
    await services.keys.close()
    await services.gateway.ledger.close()
    await services.gateway.pool.close()
    await services.store.close()
    await services.payments.close()
    if services.redis is not None:
        await services.redis.aclose()
    await services.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)

    assets = StaticAssets()
    # Read (and checked) once, before the routes: the site serves one route per company page.
    content = ContentLibrary.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings, assets, content)
        try:
            await check_schema_current(services.engine)
        except BaseException:
            await close_services(services)
            raise
        app.state.services = services
        for name, loop in background.loops(services):
            services.tasks.start_loop(name, loop)
        if settings.gc_tuning:
            tune_collector()
        log.info("modelsnest %s ready", __version__)
        try:
            yield
        finally:
            await close_services(services)

    app = FastAPI(
        title="Modelsnest",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # the explorer is /api-docs, served from our own static files
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(api_v1.router)
    app.include_router(files.router)
    app.include_router(webhooks.router)
    install_web(app, settings, assets, content)
    if settings.fast_lane:
        # Added first, so it runs inside RequestIdMiddleware (which every request passes first).
        app.add_middleware(FastLane, routes=api_v1.lane_table())
    app.add_middleware(RequestIdMiddleware)
    return app
