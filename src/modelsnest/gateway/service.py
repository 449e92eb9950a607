"""The gateway's long-lived parts, built once per process in the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from modelsnest.auth.key_verifier import ApiKeyVerifier
from modelsnest.billing import run_sweeper
from modelsnest.billing.hot import HotLedger, create_hot_ledger
from modelsnest.catalog.cache import CatalogCache
from modelsnest.catalog.providers import record_provider_health
from modelsnest.crypto import SecretBox
from modelsnest.db.engine import SessionFactory
from modelsnest.gateway import idempotency
from modelsnest.gateway.limits import RateLimits
from modelsnest.gateway.pool import ProviderPool
from modelsnest.gateway.routing import CircuitBreaker, HealthEvent
from modelsnest.media import MediaStore
from modelsnest.settings import Settings

log = logging.getLogger(__name__)

MAINTENANCE_SECONDS = 300.0


@dataclass
class Gateway:
    settings: Settings
    sessions: SessionFactory
    catalog: CatalogCache
    keys: ApiKeyVerifier
    limits: RateLimits
    breaker: CircuitBreaker
    pool: ProviderPool
    media: MediaStore
    ledger: HotLedger
    redis: Any | None = None
    rng: random.Random = field(default_factory=random.Random)
    _health_events: asyncio.Queue[HealthEvent] = field(default_factory=asyncio.Queue)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    @classmethod
    def create(cls, settings: Settings, sessions: SessionFactory) -> Gateway:
        redis = None
        if settings.redis_url:
            import redis.asyncio as aioredis

            redis = aioredis.Redis.from_url(settings.redis_url)
        box = SecretBox(settings.resolved_secret_key())
        gateway = cls(
            settings=settings,
            sessions=sessions,
            catalog=CatalogCache(sessions, box, ttl_seconds=settings.cache_ttl_seconds),
            keys=ApiKeyVerifier(sessions, ttl_seconds=settings.cache_ttl_seconds),
            limits=RateLimits(settings.redis_url, settings.redis_key_prefix, redis),
            breaker=CircuitBreaker(
                threshold=settings.circuit_failure_threshold,
                cooldown_seconds=settings.circuit_cooldown_seconds,
            ),
            pool=ProviderPool(),
            media=MediaStore(
                sessions, settings.var_dir / "media", "", ttl_seconds=settings.media_ttl_seconds
            ),
            ledger=create_hot_ledger(settings.async_database_url, sessions, pool_size=settings.db_pool_size),
            redis=redis,
        )
        gateway.breaker.on_event = gateway._health_events.put_nowait
        return gateway

    def start(self, *loops: Any) -> None:
        """Start the background loops: health persistence, the hold sweeper, maintenance, and
        any given coroutines (the video poller)."""
        self._tasks.append(asyncio.create_task(self._persist_health(), name="provider-health"))
        self._tasks.append(asyncio.create_task(run_sweeper(self.sessions), name="hold-sweeper"))
        self._tasks.append(asyncio.create_task(self._maintain(), name="maintenance"))
        for loop in loops:
            self._tasks.append(asyncio.create_task(loop))

    async def _maintain(self) -> None:
        """Expired stored files and idempotency records go away on their own."""
        while True:
            await asyncio.sleep(MAINTENANCE_SECONDS)
            try:
                await self.media.purge_expired()
                await idempotency.purge_expired(self.sessions)
            except Exception:
                log.warning("maintenance round failed", exc_info=True)

    def spawn(self, coro: Any) -> None:
        """Run work after the response (e.g. draining a stream) without losing the task."""
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _persist_health(self) -> None:
        """Make circuit state visible (``modelsnest providers list``) without slowing requests."""
        while True:
            event = await self._health_events.get()
            try:
                open_until = (
                    datetime.fromtimestamp(event.open_until_epoch, UTC) if event.open_until_epoch else None
                )
                await record_provider_health(
                    self.sessions,
                    event.provider_id,
                    success=event.success,
                    error=event.error,
                    open_until=open_until,
                )
            except Exception:
                log.warning("could not record provider health", exc_info=True)

    async def close(self) -> None:
        if self.background:
            await asyncio.wait(self.background, timeout=self.settings.stream_drain_seconds + 5)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.ledger.close()
        await self.pool.close()
        if self.redis is not None:
            await self.redis.aclose()
