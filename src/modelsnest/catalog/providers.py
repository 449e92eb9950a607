"""Manage upstream providers and model routes (used by the CLI and the admin panel).

Plain typed functions over a session factory. They raise ``InvalidRequest``, ``NotFound`` or
``Conflict`` with one clear sentence, and never return or log an API key: views carry only a
``has_api_key`` flag. After a change, call ``CatalogCache.invalidate()`` on this replica;
others pick the change up within the cache TTL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.catalog.price_rows import components_of, current_prices, current_row, to_price_info
from modelsnest.catalog.types import PriceInfo
from modelsnest.crypto import SecretBox
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.catalog import AiModel
from modelsnest.db.models.providers import ModelRoute, Provider
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from modelsnest.providers.registry import ProviderKind, default_registry

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ProviderView:
    id: int
    name: str
    kind: str
    base_url: str | None
    enabled: bool
    has_api_key: bool
    connect_timeout: float
    first_byte_timeout: float
    total_timeout: float
    consecutive_failures: int
    circuit_open_until: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    last_success_at: datetime | None
    route_count: int = 0


@dataclass(frozen=True, slots=True)
class RouteView:
    id: int
    model_id: int
    model_slug: str
    provider_id: int
    provider_name: str
    provider_kind: str
    provider_enabled: bool
    upstream_model: str
    priority: int
    weight: int
    enabled: bool
    # What the provider charges on this route, its current version (None: unknown).
    cost: PriceInfo | None = None


def _provider_view(row: Provider, route_count: int = 0) -> ProviderView:
    return ProviderView(
        id=row.id,
        name=row.name,
        kind=row.kind,
        base_url=row.base_url,
        enabled=row.enabled,
        has_api_key=bool(row.api_key_encrypted),
        connect_timeout=row.connect_timeout,
        first_byte_timeout=row.first_byte_timeout,
        total_timeout=row.total_timeout,
        consecutive_failures=row.consecutive_failures,
        circuit_open_until=row.circuit_open_until,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        last_success_at=row.last_success_at,
        route_count=route_count,
    )


def _route_view(
    route: ModelRoute, model: AiModel, provider: Provider, cost: PriceInfo | None = None
) -> RouteView:
    return RouteView(
        id=route.id,
        model_id=model.id,
        model_slug=model.slug,
        provider_id=provider.id,
        provider_name=provider.name,
        provider_kind=provider.kind,
        provider_enabled=provider.enabled,
        upstream_model=route.upstream_model,
        priority=route.priority,
        weight=route.weight,
        enabled=route.enabled,
        cost=cost,
    )


def validate_base_url(url: str) -> str:
    """An http(s) URL with a host, without query or fragment; trailing slash removed."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError on a malformed port
    except ValueError:
        raise InvalidRequest(f"Base URL {url!r} is not a valid URL.", param="base_url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text):
        raise InvalidRequest(
            f"Base URL {url!r} must be an http:// or https:// URL with a host.", param="base_url"
        )
    if parts.query or parts.fragment or (port is not None and port <= 0):
        raise InvalidRequest(
            f"Base URL {url!r} must not carry a query, fragment or port 0.", param="base_url"
        )
    return text.rstrip("/")


def provider_kind(name: str) -> ProviderKind:
    """The registered kind ``name``, or ``InvalidRequest`` naming the kinds there are."""
    kind = default_registry.get(name)
    if kind is None:
        raise InvalidRequest(
            f"Unknown provider kind {name!r}; use one of {', '.join(default_registry.kinds())}.",
            param="kind",
        )
    return kind


def provider_kinds() -> list[ProviderKind]:
    """Every registered kind (built-ins first), for a form's kind picker: each has a label,
    default base URL, capabilities and whether it needs an API key (``ProviderKind.as_dict``)."""
    return list(default_registry)


def _validate_timeout(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
        raise InvalidRequest(f"{name} must be a number of seconds between 0 and 3600.", param=name)
    return float(value)


async def _provider_by_name(session: AsyncSession, name: str) -> Provider:
    provider = await session.scalar(select(Provider).where(Provider.name == name))
    if provider is None:
        raise NotFound(f"No provider named {name!r}.", param="provider")
    return provider


async def _route_count(session: AsyncSession, provider_id: int) -> int:
    count = await session.scalar(select(func.count()).where(ModelRoute.provider_id == provider_id))
    return int(count or 0)


async def add_provider(
    sessions: SessionFactory,
    secret_box: SecretBox,
    *,
    name: str,
    kind: str,
    base_url: str | None = None,
    api_key: str | None = None,
    connect_timeout: float | None = None,
    first_byte_timeout: float | None = None,
    total_timeout: float | None = None,
    enabled: bool = True,
) -> ProviderView:
    """Create a provider of a registered kind. The base URL defaults to the kind's public API;
    the key is encrypted."""
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidRequest(
            "Provider names use 1-64 lowercase letters, digits, dots, dashes or underscores.", param="name"
        )
    declared = provider_kind(kind)
    url = validate_base_url(base_url) if base_url else declared.default_base_url
    if url is None and declared.requires_base_url:
        raise InvalidRequest(f"A {kind} provider needs a base URL.", param="base_url")
    timeouts = {
        "connect_timeout": _validate_timeout("connect_timeout", connect_timeout),
        "first_byte_timeout": _validate_timeout("first_byte_timeout", first_byte_timeout),
        "total_timeout": _validate_timeout("total_timeout", total_timeout),
    }
    key = api_key.strip() if api_key else None
    row = Provider(
        name=name,
        kind=kind,
        base_url=url,
        api_key_encrypted=secret_box.encrypt(key) if key else None,
        enabled=enabled,
        **{field: value for field, value in timeouts.items() if value is not None},
    )
    try:
        async with sessions() as session, session.begin():
            if await session.scalar(select(Provider.id).where(Provider.name == name)) is not None:
                raise Conflict(f"A provider named {name!r} already exists.", param="name")
            session.add(row)
            await session.flush()
            return _provider_view(row)
    except IntegrityError:
        raise Conflict(f"A provider named {name!r} already exists.", param="name") from None


async def update_provider(
    sessions: SessionFactory,
    secret_box: SecretBox,
    name: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    clear_api_key: bool = False,
    connect_timeout: float | None = None,
    first_byte_timeout: float | None = None,
    total_timeout: float | None = None,
) -> ProviderView:
    """Change the given fields (``None`` leaves a field as it is)."""
    if api_key is not None and clear_api_key:
        raise InvalidRequest("Give a new API key or clear it, not both.", param="api_key")
    url = validate_base_url(base_url) if base_url is not None else None
    timeouts = {
        "connect_timeout": _validate_timeout("connect_timeout", connect_timeout),
        "first_byte_timeout": _validate_timeout("first_byte_timeout", first_byte_timeout),
        "total_timeout": _validate_timeout("total_timeout", total_timeout),
    }
    async with sessions() as session, session.begin():
        row = await _provider_by_name(session, name)
        if url is not None:
            row.base_url = url
        if api_key is not None:
            key = api_key.strip()
            if not key:
                raise InvalidRequest(
                    "The API key cannot be empty; use clear_api_key to remove it.", param="api_key"
                )
            row.api_key_encrypted = secret_box.encrypt(key)
        if clear_api_key:
            row.api_key_encrypted = None
        for field, value in timeouts.items():
            if value is not None:
                setattr(row, field, value)
        await session.flush()
        return _provider_view(row, await _route_count(session, row.id))


async def set_provider_enabled(sessions: SessionFactory, name: str, enabled: bool) -> ProviderView:
    async with sessions() as session, session.begin():
        row = await _provider_by_name(session, name)
        row.enabled = enabled
        if enabled:  # an operator re-enabling a provider closes its circuit
            row.circuit_open_until = None
            row.consecutive_failures = 0
        await session.flush()
        return _provider_view(row, await _route_count(session, row.id))


async def remove_provider(sessions: SessionFactory, name: str) -> None:
    """Delete a provider and, with it, every route to it."""
    async with sessions() as session, session.begin():
        row = await _provider_by_name(session, name)
        await session.delete(row)


async def get_provider(sessions: SessionFactory, name: str) -> ProviderView:
    async with sessions() as session:
        row = await _provider_by_name(session, name)
        return _provider_view(row, await _route_count(session, row.id))


async def list_providers(sessions: SessionFactory) -> list[ProviderView]:
    """Every provider by name, with health and route count (never the key)."""
    async with sessions() as session:
        counts = dict(
            (
                await session.execute(
                    select(ModelRoute.provider_id, func.count()).group_by(ModelRoute.provider_id)
                )
            ).all()
        )
        rows = (await session.scalars(select(Provider).order_by(Provider.name))).all()
        return [_provider_view(row, int(counts.get(row.id, 0))) for row in rows]


def _validate_route_numbers(priority: int | None, weight: int | None) -> None:
    for name, value in (("priority", priority), ("weight", weight)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InvalidRequest(f"{name} must be a whole number of 0 or more.", param=name)


async def add_route(
    sessions: SessionFactory,
    *,
    model_slug: str,
    provider_name: str,
    upstream_model: str,
    priority: int = 100,
    weight: int = 1,
    enabled: bool = True,
) -> RouteView:
    """Route a model to a provider (lower priority is tried first)."""
    _validate_route_numbers(priority, weight)
    upstream = upstream_model.strip()
    if not upstream or len(upstream) > 200:
        raise InvalidRequest("The upstream model id must be 1-200 characters.", param="upstream_model")
    conflict = Conflict(
        f"Model {model_slug!r} already has a route to {provider_name!r} for {upstream!r}.",
        param="upstream_model",
    )
    try:
        async with sessions() as session, session.begin():
            model = await session.scalar(select(AiModel).where(AiModel.slug == model_slug))
            if model is None:
                raise NotFound(f"No model with slug {model_slug!r}.", param="model")
            provider = await _provider_by_name(session, provider_name)
            duplicate = await session.scalar(
                select(ModelRoute.id).where(
                    ModelRoute.model_id == model.id,
                    ModelRoute.provider_id == provider.id,
                    ModelRoute.upstream_model == upstream,
                )
            )
            if duplicate is not None:
                raise conflict
            route = ModelRoute(
                model_id=model.id,
                provider_id=provider.id,
                upstream_model=upstream,
                priority=priority,
                weight=weight,
                enabled=enabled,
            )
            session.add(route)
            await session.flush()
            return _route_view(route, model, provider)
    except IntegrityError:
        raise conflict from None


async def update_route(
    sessions: SessionFactory,
    route_id: int,
    *,
    priority: int | None = None,
    weight: int | None = None,
    enabled: bool | None = None,
) -> RouteView:
    _validate_route_numbers(priority, weight)
    async with sessions() as session, session.begin():
        route = await session.get(ModelRoute, route_id)
        if route is None:
            raise NotFound(f"No route with id {route_id}.", param="route")
        if priority is not None:
            route.priority = priority
        if weight is not None:
            route.weight = weight
        if enabled is not None:
            route.enabled = enabled
        await session.flush()
        model = await session.get_one(AiModel, route.model_id)
        provider = await session.get_one(Provider, route.provider_id)
        cost = await current_row(session, model_id=model.id, route_id=route.id)
        price = (
            None
            if cost is None
            else to_price_info(cost, (await components_of(session, [cost.id])).get(cost.id, ()))
        )
        return _route_view(route, model, provider, price)


async def remove_route(sessions: SessionFactory, route_id: int) -> None:
    async with sessions() as session, session.begin():
        route = await session.get(ModelRoute, route_id)
        if route is None:
            raise NotFound(f"No route with id {route_id}.", param="route")
        await session.delete(route)


async def list_routes(sessions: SessionFactory, model_slug: str | None = None) -> list[RouteView]:
    """Routes sorted by model slug, then priority (then id)."""
    async with sessions() as session:
        query = (
            select(ModelRoute, AiModel, Provider)
            .join(AiModel, AiModel.id == ModelRoute.model_id)
            .join(Provider, Provider.id == ModelRoute.provider_id)
            .order_by(AiModel.slug, ModelRoute.priority, ModelRoute.id)
        )
        if model_slug is not None:
            if await session.scalar(select(AiModel.id).where(AiModel.slug == model_slug)) is None:
                raise NotFound(f"No model with slug {model_slug!r}.", param="model")
            query = query.where(AiModel.slug == model_slug)
        rows = (await session.execute(query)).all()
        _, costs = await current_prices(session)
        return [_route_view(route, model, provider, costs.get(route.id)) for route, model, provider in rows]


async def record_provider_health(
    sessions: SessionFactory,
    provider_id: int,
    *,
    success: bool,
    error: str | None = None,
    open_until: datetime | None = None,
) -> int:
    """Record one call's outcome for the shared circuit breaker; returns the provider's
    consecutive failure count afterwards (0 after a success, or when the provider is gone).

    A success resets the failures and closes the circuit; a failure increments the count
    atomically (safe across replicas), stores the error and sets ``circuit_open_until``.
    """
    now = utcnow()
    if success:
        values: dict[str, object] = {
            "consecutive_failures": 0,
            "circuit_open_until": None,
            "last_success_at": now,
        }
    else:
        values = {
            "consecutive_failures": Provider.consecutive_failures + 1,
            "last_error": (error or "unknown error")[:_MAX_ERROR_CHARS],
            "last_error_at": now,
            "circuit_open_until": open_until,
        }
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Provider)
            .where(Provider.id == provider_id)
            .values(**values)
            .returning(Provider.consecutive_failures)
            .execution_options(synchronize_session=False)
        )
        count = result.scalar_one_or_none()
    return int(count or 0)


__all__ = [
    "ProviderView",
    "RouteView",
    "add_provider",
    "add_route",
    "get_provider",
    "list_providers",
    "list_routes",
    "provider_kind",
    "provider_kinds",
    "record_provider_health",
    "remove_provider",
    "remove_route",
    "set_provider_enabled",
    "update_provider",
    "update_route",
    "validate_base_url",
]
