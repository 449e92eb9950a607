"""``Gateway``: what the gateway's functions need, nothing more. Built once per process by
``app.build_services`` (which also registers its background loops); it starts nothing itself."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from modelsnest.billing.hot import HotLedger
from modelsnest.catalog.cache import CatalogCache
from modelsnest.db.engine import SessionFactory
from modelsnest.gateway.limits import RateLimits
from modelsnest.gateway.pool import ProviderPool
from modelsnest.gateway.routing import CircuitBreaker, HealthEvent
from modelsnest.media.storage import MediaStore
from modelsnest.settings import Settings
from modelsnest.tasks import TaskSet


@dataclass(frozen=True)
class Gateway:
    settings: Settings
    sessions: SessionFactory
    catalog: CatalogCache
    limits: RateLimits
    breaker: CircuitBreaker
    pool: ProviderPool
    media: MediaStore
    ledger: HotLedger
    tasks: TaskSet
    # Circuit-breaker events, persisted by a background loop (``gateway.health``).
    health_events: asyncio.Queue[HealthEvent] = field(default_factory=asyncio.Queue)
    rng: random.Random = field(default_factory=random.Random)
    # Told the user id and balance after every charge (cheap, synchronous): auto-recharge and
    # the low-balance alert watch it.
    on_charged: Callable[[int, int], None] | None = None

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run work after the response (e.g. a stream checkpoint) without losing the task."""
        self.tasks.spawn(work)
