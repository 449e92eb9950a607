"""Price versions as rows: read the current ones into ``PriceInfo``, write a new one.

A price version is one ``ai_model_pricing`` row (unit, base input/output) and its
``ai_model_price_components`` rows. Writing a version closes the current one at the same
instant (``effective_until`` of the old = ``effective_from`` of the new), inside the
caller's transaction, so the history has no gaps and no overlaps. Concurrent writers of the
same price queue on a lock of its owner's row; the partial unique indexes are the backstop
that makes two current versions impossible whatever a writer does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.catalog.types import PriceComponent, PriceInfo
from modelsnest.db.base import utcnow
from modelsnest.db.models.catalog import AiModel, AiModelPriceComponent, AiModelPricing
from modelsnest.db.models.providers import ModelRoute


def is_current() -> ColumnElement[bool]:
    return AiModelPricing.effective_until.is_(None)


def selling() -> ColumnElement[bool]:
    """The model's selling price, not a route's cost price."""
    return AiModelPricing.route_id.is_(None)


def component_order(component: PriceComponent) -> tuple[str, str, int]:
    return component.dimension, component.variant, component.above_input_tokens


def to_price_info(row: AiModelPricing, components: Iterable[AiModelPriceComponent]) -> PriceInfo:
    parts = tuple(
        sorted(
            (PriceComponent(c.dimension, c.price_nanos, c.variant, c.above_input_tokens) for c in components),
            key=component_order,
        )
    )
    return PriceInfo(row.price_unit, row.input_price_nanos, row.output_price_nanos, parts, row.id)


async def components_of(
    session: AsyncSession, pricing_ids: Iterable[int] | None = None
) -> dict[int, list[AiModelPriceComponent]]:
    """Components by version id: of ``pricing_ids``, or (None) of every current version."""
    query = select(AiModelPriceComponent)
    if pricing_ids is None:
        query = query.join(AiModelPricing, AiModelPricing.id == AiModelPriceComponent.pricing_id).where(
            is_current()
        )
    else:
        ids = list(pricing_ids)
        if not ids:
            return {}
        query = query.where(AiModelPriceComponent.pricing_id.in_(ids))
    found: dict[int, list[AiModelPriceComponent]] = defaultdict(list)
    for component in (await session.scalars(query)).all():
        found[component.pricing_id].append(component)
    return found


async def current_prices(session: AsyncSession) -> tuple[dict[int, PriceInfo], dict[int, PriceInfo]]:
    """Every current version, in two queries: (selling price by model id, cost price by route id)."""
    rows = (await session.scalars(select(AiModelPricing).where(is_current()))).all()
    components = await components_of(session)
    prices: dict[int, PriceInfo] = {}
    costs: dict[int, PriceInfo] = {}
    for row in rows:
        info = to_price_info(row, components.get(row.id, ()))
        if row.route_id is None:
            prices[row.model_id] = info
        else:
            costs[row.route_id] = info
    return prices, costs


async def current_row(
    session: AsyncSession, *, model_id: int, route_id: int | None, lock: bool = False
) -> AiModelPricing | None:
    query = select(AiModelPricing).where(is_current(), AiModelPricing.model_id == model_id)
    query = query.where(selling() if route_id is None else AiModelPricing.route_id == route_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def current_model_price(session: AsyncSession, model_id: int) -> PriceInfo | None:
    row = await current_row(session, model_id=model_id, route_id=None)
    if row is None:
        return None
    return to_price_info(row, (await components_of(session, [row.id])).get(row.id, ()))


def same_price(a: PriceInfo, b: PriceInfo) -> bool:
    """Equal as prices (unit, base, components in any order), whatever their version ids."""
    return (a.unit, a.input_nanos, a.output_nanos, sorted(a.components, key=component_order)) == (
        b.unit,
        b.input_nanos,
        b.output_nanos,
        sorted(b.components, key=component_order),
    )


async def write_version(
    session: AsyncSession,
    *,
    model_id: int,
    route_id: int | None,
    price: PriceInfo | None,
    source: str,
    actor: str | None,
    reason: str | None,
    now: datetime | None = None,
) -> AiModelPricing | None:
    """Close the current version (of the model's selling price, or of ``route_id``'s cost)
    and, unless ``price`` is None (a cost price made unknown), write the new one. Returns it."""
    # Writers of one price queue on its owner's row (the model, or the route), so the current
    # version read next is the one this writer closes (SQLite's BEGIN IMMEDIATE serializes anyway).
    owner = (
        select(AiModel.id).where(AiModel.id == model_id)
        if route_id is None
        else select(ModelRoute.id).where(ModelRoute.id == route_id)
    )
    await session.execute(owner.with_for_update())
    at = now or utcnow()
    current = await current_row(session, model_id=model_id, route_id=route_id)
    if current is not None:
        at = max(at, current.effective_from)  # another replica's clock may be ahead
        await session.execute(
            update(AiModelPricing)
            .where(AiModelPricing.id == current.id, is_current())
            .values(effective_until=at, updated_at=at)
            .execution_options(synchronize_session=False)
        )
    if price is None:
        return None
    row = AiModelPricing(
        model_id=model_id,
        route_id=route_id,
        price_unit=price.unit,
        input_price_nanos=price.input_nanos,
        output_price_nanos=price.output_nanos,
        currency="USD",
        source=source,
        effective_from=at,
        actor=actor,
        reason=reason,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    await session.flush()
    session.add_all(
        AiModelPriceComponent(
            pricing_id=row.id,
            dimension=c.dimension,
            variant=c.variant,
            above_input_tokens=c.above_input_tokens,
            price_nanos=c.price_nanos,
        )
        for c in price.components
    )
    await session.flush()
    return row


__all__ = [
    "component_order",
    "components_of",
    "current_model_price",
    "current_prices",
    "current_row",
    "is_current",
    "same_price",
    "selling",
    "to_price_info",
    "write_version",
]
