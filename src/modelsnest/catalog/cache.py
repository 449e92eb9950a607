"""The hot path's view of the catalog: models, prices and routes, held in memory.

``CatalogCache.get()`` returns an immutable ``CatalogSnapshot`` and reloads it from the
database when it is older than ``ttl_seconds`` (5 s by default), so an operator's change
reaches every replica within seconds; ``invalidate()`` makes this replica reload on the next
call. Concurrent callers share one reload (single flight), and when a reload fails the previous
snapshot keeps being served (the failure is logged and retried after the TTL).

A snapshot is built with five queries (models with categories, current price versions, their
components, enabled providers, enabled routes), whatever the catalog size. Each model carries
its current selling price and each route its current cost price (``RouteInfo.cost``, None when
unknown), both with their ``version_id``. Routes keep only enabled routes of enabled
providers, sorted by priority; API keys are decrypted once per load.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from types import MappingProxyType

from sqlalchemy import select

from modelsnest.catalog.price_rows import current_prices
from modelsnest.catalog.types import CatalogSnapshot, ModelInfo, PriceInfo, RouteInfo
from modelsnest.crypto import SecretBox
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.catalog import AiModel, AiModelCategory
from modelsnest.db.models.providers import ModelRoute, Provider
from modelsnest.providers.types import ProviderConfig

log = logging.getLogger(__name__)


async def load_snapshot(sessions: SessionFactory, secret_box: SecretBox) -> CatalogSnapshot:
    """Read the whole catalog into a new snapshot."""
    async with sessions() as session:
        model_rows = (
            await session.execute(
                select(AiModel, AiModelCategory.slug)
                .join(AiModelCategory, AiModelCategory.id == AiModel.category_id)
                .order_by(AiModel.sort_order, AiModel.id)
            )
        ).all()
        prices, costs = await current_prices(session)
        provider_rows = (await session.scalars(select(Provider).where(Provider.enabled.is_(True)))).all()
        route_rows = (
            await session.scalars(
                select(ModelRoute)
                .where(ModelRoute.enabled.is_(True))
                .order_by(ModelRoute.priority, ModelRoute.id)
            )
        ).all()

    providers: dict[int, tuple[ProviderConfig, Provider]] = {}
    for row in provider_rows:
        api_key: str | None = None
        if row.api_key_encrypted:
            try:
                api_key = secret_box.decrypt(row.api_key_encrypted)
            except ValueError:
                log.error("provider %s: stored API key cannot be decrypted; its routes are skipped", row.name)
                continue
        config = ProviderConfig(
            name=row.name,
            kind=row.kind,
            base_url=row.base_url,
            api_key=api_key,
            connect_timeout=row.connect_timeout,
            first_byte_timeout=row.first_byte_timeout,
            total_timeout=row.total_timeout,
            extra=dict(row.config or {}),
        )
        providers[row.id] = (config, row)

    routes: dict[int, list[RouteInfo]] = defaultdict(list)
    for route in route_rows:  # already in priority order
        found = providers.get(route.provider_id)
        if found is None:
            continue
        config, provider = found
        routes[route.model_id].append(
            RouteInfo(
                route_id=route.id,
                provider_id=route.provider_id,
                provider=config,
                upstream_model=route.upstream_model,
                priority=route.priority,
                weight=route.weight,
                circuit_open_until=provider.circuit_open_until,
                cost=costs.get(route.id),
            )
        )

    models: dict[str, ModelInfo] = {}
    for model, category in model_rows:
        models[model.slug] = ModelInfo(
            id=model.id,
            slug=model.slug,
            name=model.name,
            vendor=model.vendor,
            category=category,
            endpoint=model.endpoint,
            status=model.status,
            description=model.description,
            context_length=model.context_length,
            max_output_tokens=model.max_output_tokens,
            capabilities=MappingProxyType(dict(model.capabilities or {})),
            upstream_ids=MappingProxyType({str(k): str(v) for k, v in (model.upstream_ids or {}).items()}),
            pricing=prices.get(model.id),
            routes=tuple(routes.get(model.id, ())),
        )
    return CatalogSnapshot(models=MappingProxyType(models), loaded_at=utcnow())


class CatalogCache:
    """One per process (created in the app lifespan), shared by every request."""

    def __init__(
        self,
        sessions: SessionFactory,
        secret_box: SecretBox,
        ttl_seconds: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._secret_box = secret_box
        self._ttl = ttl_seconds
        self._clock = clock
        self._snapshot: CatalogSnapshot | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    def _fresh(self) -> CatalogSnapshot | None:
        if self._snapshot is not None and self._clock() < self._expires_at:
            return self._snapshot
        return None

    async def get(self) -> CatalogSnapshot:
        """The current snapshot, reloaded first when stale."""
        snapshot = self._fresh()
        if snapshot is not None:
            return snapshot
        async with self._lock:
            snapshot = self._fresh()  # another caller may have reloaded while we waited
            if snapshot is not None:
                return snapshot
            try:
                snapshot = await load_snapshot(self._sessions, self._secret_box)
            except Exception:
                if self._snapshot is None:
                    raise
                log.exception("catalog reload failed; serving the previous snapshot")
                self._expires_at = self._clock() + self._ttl
                return self._snapshot
            self._snapshot = snapshot
            self._expires_at = self._clock() + self._ttl
            return snapshot

    async def model(self, slug: str) -> ModelInfo | None:
        return (await self.get()).get(slug)

    def invalidate(self) -> None:
        """Make the next ``get()`` reload (the old snapshot stays as a fallback)."""
        self._expires_at = 0.0

    @property
    def snapshot(self) -> CatalogSnapshot | None:
        """The last loaded snapshot, without reloading (None before the first load)."""
        return self._snapshot


__all__ = ["CatalogCache", "CatalogSnapshot", "ModelInfo", "PriceInfo", "RouteInfo", "load_snapshot"]
