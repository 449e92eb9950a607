"""What each product sold, from the daily usage rollups (the admin panel's store page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import UsageDaily

PREFIX = "store/"


@dataclass(frozen=True)
class ProductSales:
    slug: str
    calls: int  # every call that reached the point of a hold (charged or not)
    errors: int
    response_bytes: int  # bytes returned by the charged calls
    revenue_nanos: int


async def product_sales(
    sessions: SessionFactory,
    *,
    since: date | None = None,
    until: date | None = None,
    user_id: int | None = None,
) -> list[ProductSales]:
    """Calls, errors, bytes and revenue per product over whole UTC days (inclusive), highest
    revenue first; ``user_id`` narrows it to one customer (the dashboard)."""
    u = UsageDaily
    query = (
        select(
            u.model_slug,
            func.sum(u.requests),
            func.sum(u.errors),
            func.sum(u.units),
            func.sum(u.cost_nanos),
        )
        .where(u.model_slug.like(PREFIX + "%"))
        .group_by(u.model_slug)
    )
    if since is not None:
        query = query.where(u.day >= since)
    if until is not None:
        query = query.where(u.day <= until)
    if user_id is not None:
        query = query.where(u.user_id == user_id)
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    sales = [
        ProductSales(slug[len(PREFIX) :], int(calls or 0), int(errors or 0), int(units or 0), int(cost or 0))
        for slug, calls, errors, units, cost in rows
    ]
    return sorted(sales, key=lambda s: (-s.revenue_nanos, s.slug))
