"""Margins for the admin overview: what was charged against what the upstreams cost, per
model, provider or user over a range of UTC days, read from the daily rollups only (their
primary key starts with the day, so a date range is an index range, never a log scan).

Every usage row stores its charge and its upstream cost, each rounded once (``catalog.pricing``),
so a margin is a difference of exact integers. A request whose route has no cost price has an
unknown upstream cost: its charge is counted apart (``uncosted_nanos``) and left out of the
margin, which therefore covers exactly the requests whose cost is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select

from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import UsageDaily
from modelsnest.errors import InvalidRequest

MarginGroup = Literal["model", "provider", "user"]
_GROUPS = {
    "model": UsageDaily.model_slug,
    "provider": UsageDaily.provider_name,  # '' = requests no provider answered
    "user": UsageDaily.user_id,
}


@dataclass(frozen=True, slots=True)
class MarginRow:
    """One model, provider (``''``: none answered) or user (its id) over the range."""

    key: str | int
    requests: int
    charged_nanos: int  # what customers were charged
    upstream_cost_nanos: int  # what the providers cost, for the requests with a known cost
    uncosted_nanos: int  # charged on requests whose upstream cost is unknown

    @property
    def costed_nanos(self) -> int:
        """The charge of the requests whose upstream cost is known."""
        return self.charged_nanos - self.uncosted_nanos

    @property
    def margin_nanos(self) -> int:
        """Charged minus upstream cost, over the requests whose cost is known."""
        return self.costed_nanos - self.upstream_cost_nanos


def _range(start: date, end: date) -> None:
    if end < start:
        raise InvalidRequest("the end of the range is before its start", param="end")


def _sums() -> tuple[ColumnElement[Any], ...]:
    return (
        func.coalesce(func.sum(UsageDaily.requests), 0),
        func.coalesce(func.sum(UsageDaily.cost_nanos), 0),
        func.coalesce(func.sum(UsageDaily.upstream_cost_nanos), 0),
        func.coalesce(func.sum(UsageDaily.upstream_uncosted_nanos), 0),
    )


async def margins(sessions: SessionFactory, *, start: date, end: date, by: MarginGroup) -> list[MarginRow]:
    """Margin per ``by`` (model, provider or user) over the UTC days ``start``…``end``
    (inclusive), the largest charge first."""
    _range(start, end)
    if by not in _GROUPS:
        raise InvalidRequest(f"group margins by one of {', '.join(_GROUPS)}", param="by")
    column = _GROUPS[by]
    query = (
        select(column, *_sums())
        .where(UsageDaily.day >= start, UsageDaily.day <= end)
        .group_by(column)
        .order_by(func.sum(UsageDaily.cost_nanos).desc(), column)
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        MarginRow(key, int(n), int(charged), int(cost), int(uncosted))
        for key, n, charged, cost, uncosted in rows
    ]


async def margin_totals(sessions: SessionFactory, *, start: date, end: date) -> MarginRow:
    """Everything over the range, as one row (key ``"all"``)."""
    _range(start, end)
    query = select(*_sums()).where(UsageDaily.day >= start, UsageDaily.day <= end)
    async with sessions() as session:
        row = (await session.execute(query)).one()
    return MarginRow("all", *(int(value) for value in row))


__all__ = ["MarginGroup", "MarginRow", "margin_totals", "margins"]
