"""Selling prices and route cost prices, with their history (CLI and admin panel).

* ``set_price`` writes a new version of a model's selling price: it applies to requests
  admitted from then on (a request in flight keeps the ``PriceInfo`` it was admitted with
  and records its ``version_id``); the old version stays, closed, in the history.
* ``set_route_cost`` does the same for what a route's provider charges the operator
  (``None``: the cost becomes unknown). Usage rows carry the upstream cost computed from it.
* ``price_history`` / ``route_cost_history`` list the versions, newest first, with who set
  them and why; ``costs_above_price`` lists the routes that cost more than they sell for in
  some dimension (the admin panel's warning).

Plain typed functions over a session factory, raising ``InvalidRequest``, ``NotFound`` or
``Conflict`` with one clear sentence. After a change, call ``CatalogCache.invalidate()`` on
this replica; every replica serves the new version within the cache TTL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.catalog.price_input import validate_price
from modelsnest.catalog.price_rows import (
    components_of,
    current_prices,
    current_row,
    selling,
    to_price_info,
    write_version,
)
from modelsnest.catalog.pricing import image_variant
from modelsnest.catalog.types import TOKEN_DIMENSIONS, PriceInfo
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.catalog import AiModel, AiModelPricing
from modelsnest.db.models.providers import ModelRoute, Provider
from modelsnest.errors import Conflict, InvalidRequest, ModelsnestError, NotFound

_ATTEMPTS = 3  # a concurrent writer of the same price makes ours retry on the new current version


@dataclass(frozen=True, slots=True)
class PriceVersion:
    """One version of a selling price (``route_id`` None) or of a route's cost price."""

    id: int
    model_slug: str
    route_id: int | None
    price: PriceInfo  # ``price.version_id == id``
    effective_from: datetime
    effective_until: datetime | None  # None: the current version
    source: str  # seed | operator
    actor: str | None
    reason: str | None

    @property
    def current(self) -> bool:
        return self.effective_until is None


@dataclass(frozen=True, slots=True)
class CostAbovePrice:
    """A route whose cost price exceeds the model's selling price in one dimension."""

    route_id: int
    model_slug: str
    provider_name: str
    upstream_model: str
    unit: str
    dimension: str  # a price dimension, or "unit" when the two prices are in different units
    variant: str
    above_input_tokens: int
    cost_nanos: int
    price_nanos: int


def _clean_text(value: str | None, name: str, limit: int) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    if len(text) > limit:
        raise InvalidRequest(f"{name} may be at most {limit} characters", param=name)
    return text or None


def _actor(actor: str) -> str:
    text = _clean_text(actor, "actor", 120)
    if text is None:
        raise InvalidRequest("say who sets the price (actor)", param="actor")
    return text


async def _model(session: AsyncSession, slug: str) -> AiModel:
    model = await session.scalar(select(AiModel).where(AiModel.slug == slug))
    if model is None:
        raise NotFound(f"No model with slug {slug!r}.", param="model")
    return model


async def _version(session: AsyncSession, row: AiModelPricing, slug: str) -> PriceVersion:
    components = (await components_of(session, [row.id])).get(row.id, ())
    return _view(row, slug, to_price_info(row, components))


def _view(row: AiModelPricing, slug: str, price: PriceInfo) -> PriceVersion:
    return PriceVersion(
        id=row.id,
        model_slug=slug,
        route_id=row.route_id,
        price=price,
        effective_from=row.effective_from,
        effective_until=row.effective_until,
        source=row.source,
        actor=row.actor,
        reason=row.reason,
    )


async def _write(
    sessions: SessionFactory,
    *,
    model_slug: str | None,
    route_id: int | None,
    price: PriceInfo | None,
    actor: str,
    reason: str | None,
    expected_version_id: int | None,
) -> PriceVersion | None:
    who, why = _actor(actor), _clean_text(reason, "reason", 2000)
    for attempt in range(_ATTEMPTS):
        try:
            async with sessions() as session, session.begin():
                if route_id is None:
                    assert model_slug is not None
                    model = await _model(session, model_slug)
                else:
                    route = await session.get(ModelRoute, route_id)
                    if route is None:
                        raise NotFound(f"No route with id {route_id}.", param="route")
                    model = await session.get_one(AiModel, route.model_id)
                if price is not None:
                    validate_price(price, endpoint=model.endpoint)
                if expected_version_id is not None:
                    current = await current_row(session, model_id=model.id, route_id=route_id)
                    if (current.id if current else None) != expected_version_id:
                        raise Conflict(
                            "the price was changed meanwhile; reload it and try again", param="version_id"
                        )
                row = await write_version(
                    session,
                    model_id=model.id,
                    route_id=route_id,
                    price=price,
                    source="operator",
                    actor=who,
                    reason=why,
                )
                return None if row is None else await _version(session, row, model.slug)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise Conflict("the price is being changed by someone else; try again") from None
    raise AssertionError("unreachable")


async def set_price(
    sessions: SessionFactory,
    model_slug: str,
    price: PriceInfo,
    *,
    actor: str,
    reason: str | None = None,
    expected_version_id: int | None = None,
) -> PriceVersion:
    """Write a new version of the model's selling price (``price``: see ``price_input``), in
    one transaction that closes the current version. ``expected_version_id``: refuse with
    ``Conflict`` unless that is still the current version (an edit form's optimistic lock).
    An operator-set price is never overwritten by seeding."""
    version = await _write(
        sessions,
        model_slug=model_slug,
        route_id=None,
        price=price,
        actor=actor,
        reason=reason,
        expected_version_id=expected_version_id,
    )
    assert version is not None
    return version


async def set_route_cost(
    sessions: SessionFactory,
    route_id: int,
    cost: PriceInfo | None,
    *,
    actor: str,
    reason: str | None = None,
    expected_version_id: int | None = None,
) -> PriceVersion | None:
    """Write a new version of what route ``route_id``'s provider charges (same dimensions as
    a selling price, in a unit the model's endpoint allows); ``None`` makes it unknown."""
    return await _write(
        sessions,
        model_slug=None,
        route_id=route_id,
        price=cost,
        actor=actor,
        reason=reason,
        expected_version_id=expected_version_id,
    )


async def _history(
    session: AsyncSession, slug: str, condition: ColumnElement[bool], limit: int
) -> list[PriceVersion]:
    rows = (
        await session.scalars(
            select(AiModelPricing)
            .where(condition)
            .order_by(AiModelPricing.effective_from.desc(), AiModelPricing.id.desc())
            .limit(max(1, min(limit, 1000)))
        )
    ).all()
    components = await components_of(session, [row.id for row in rows])
    return [_view(row, slug, to_price_info(row, components.get(row.id, ()))) for row in rows]


async def current_price(sessions: SessionFactory, model_slug: str) -> PriceVersion | None:
    """The model's current selling price version (None while it has none)."""
    async with sessions() as session:
        model = await _model(session, model_slug)
        row = await current_row(session, model_id=model.id, route_id=None)
        return None if row is None else await _version(session, row, model.slug)


async def price_history(sessions: SessionFactory, model_slug: str, *, limit: int = 100) -> list[PriceVersion]:
    """The model's selling price versions, newest first (the current one has no end)."""
    async with sessions() as session:
        model = await _model(session, model_slug)
        condition = (AiModelPricing.model_id == model.id) & selling()
        return await _history(session, model.slug, condition, limit)


async def route_cost_history(
    sessions: SessionFactory, route_id: int, *, limit: int = 100
) -> list[PriceVersion]:
    """A route's cost price versions, newest first."""
    async with sessions() as session:
        route = await session.get(ModelRoute, route_id)
        if route is None:
            raise NotFound(f"No route with id {route_id}.", param="route")
        model = await session.get_one(AiModel, route.model_id)
        return await _history(session, model.slug, AiModelPricing.route_id == route_id, limit)


async def get_price_version(sessions: SessionFactory, version_id: int) -> PriceVersion:
    """One version by id (a usage row's ``price_version_id`` or ``upstream_price_version_id``)."""
    async with sessions() as session:
        row = await session.get(AiModelPricing, version_id)
        if row is None:
            raise NotFound(f"No price version {version_id}.", param="version_id")
        model = await session.get_one(AiModel, row.model_id)
        return await _version(session, row, model.slug)


def _image_price(price: PriceInfo, variant: str) -> int | None:
    size, _, quality = variant.partition("/")
    try:
        found = image_variant(price, size, quality or None)
    except ModelsnestError:
        return None  # this price does not sell (or buy) that variant
    return price.input_nanos if found is None else found.price_nanos


def price_gaps(cost: PriceInfo, price: PriceInfo) -> list[tuple[str, str, int, int, int]]:
    """(dimension, variant, tier, cost, price) wherever ``cost`` exceeds ``price``.

    Token prices are compared per dimension either one prices apart (input and output
    always), at the base tier and at every tier either one defines, each side's price
    resolved as a bill resolves it (tier, then fallback dimension). Image prices are compared
    per variant either one lists (or their single per-image prices)."""
    if cost.unit != price.unit:
        return [("unit", "", 0, cost.input_nanos, price.input_nanos)]
    gaps: list[tuple[str, str, int, int, int]] = []
    if cost.unit == "per_1k_tokens":
        tiers = sorted(set(cost.tiers()) | set(price.tiers()))
        for tier in tiers:
            for dimension in TOKEN_DIMENSIONS:
                own = [p.own_price(dimension, tier) for p in (cost, price)]
                if dimension not in ("input", "output") and own == [None, None]:
                    continue
                if tier and not any(found is not None and found[1] == tier for found in own):
                    continue  # nothing changes at this tier for this dimension
                paid, sold = cost.price_of(dimension, tier)[0], price.price_of(dimension, tier)[0]
                if paid > sold:
                    gaps.append((dimension, "", tier, paid, sold))
        return gaps
    variants = {c.variant for c in (*cost.image_variants(), *price.image_variants())}
    if cost.unit == "per_image" and variants:
        for variant in sorted(variants):
            bought, offered = _image_price(cost, variant), _image_price(price, variant)
            if bought is not None and offered is not None and bought > offered:
                gaps.append(("image", variant, 0, bought, offered))
        return gaps
    if cost.input_nanos > price.input_nanos:
        gaps.append(("input", "", 0, cost.input_nanos, price.input_nanos))
    return gaps


async def costs_above_price(sessions: SessionFactory) -> list[CostAbovePrice]:
    """Every route (enabled or not) whose current cost price exceeds its model's current
    selling price in some dimension, by model slug then route id."""
    async with sessions() as session:
        prices, costs = await current_prices(session)
        rows = (
            await session.execute(
                select(ModelRoute, AiModel.slug, Provider.name)
                .join(AiModel, AiModel.id == ModelRoute.model_id)
                .join(Provider, Provider.id == ModelRoute.provider_id)
                .where(ModelRoute.id.in_(list(costs)) if costs else ModelRoute.id.is_(None))
                .order_by(AiModel.slug, ModelRoute.id)
            )
        ).all()
    found: list[CostAbovePrice] = []
    for route, slug, provider in rows:
        price = prices.get(route.model_id)
        if price is None:
            continue
        cost = costs[route.id]
        for dimension, variant, tier, paid, sold in price_gaps(cost, price):
            found.append(
                CostAbovePrice(
                    route_id=route.id,
                    model_slug=slug,
                    provider_name=provider,
                    upstream_model=route.upstream_model,
                    unit=cost.unit,
                    dimension=dimension,
                    variant=variant,
                    above_input_tokens=tier,
                    cost_nanos=paid,
                    price_nanos=sold,
                )
            )
    return found


__all__ = [
    "CostAbovePrice",
    "PriceVersion",
    "costs_above_price",
    "current_price",
    "get_price_version",
    "price_gaps",
    "price_history",
    "route_cost_history",
    "set_price",
    "set_route_cost",
]
