"""Usage analytics for the dashboard: requests, tokens and cost per day, split by model and by
key, read from the ``usage_daily`` rollups only (never a scan of ``usage_logs``).

Days are UTC days, inclusive at both ends. Amounts are integer nano-dollars."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import UsageDaily
from modelsnest.errors import InvalidRequest

MAX_DAYS = 366
NO_KEY = 0  # rollups of calls made without an API key (dashboard, playground)


@dataclass
class Totals:
    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    units: int = 0
    cost_nanos: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, row: Totals) -> None:
        self.requests += row.requests
        self.errors += row.errors
        self.prompt_tokens += row.prompt_tokens
        self.completion_tokens += row.completion_tokens
        self.units += row.units
        self.cost_nanos += row.cost_nanos


@dataclass
class DailyUsage:
    start: date
    end: date
    days: list[date]
    per_day: list[Totals]
    total: Totals
    # Totals per model slug and per key id (0: no key), largest cost first.
    by_model: list[tuple[str, Totals]]
    by_key: list[tuple[int, Totals]]
    # Cost per day of each model / key: {slug: [nanos per day]}.
    model_cost_per_day: dict[str, list[int]] = field(default_factory=dict)
    key_cost_per_day: dict[int, list[int]] = field(default_factory=dict)


def day_range(start: date, end: date) -> list[date]:
    if end < start:
        raise InvalidRequest("the end date is before the start date", param="to")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidRequest(f"choose a range of at most {MAX_DAYS} days", param="from")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


async def daily_usage(
    sessions: SessionFactory,
    *,
    user_id: int,
    start: date,
    end: date,
    model: str | None = None,
    api_token_id: int | None = None,
) -> DailyUsage:
    days = day_range(start, end)
    index = {day: i for i, day in enumerate(days)}
    d = UsageDaily
    conditions = [d.user_id == user_id, d.day >= start, d.day <= end]
    if model:
        conditions.append(d.model_slug == model)
    if api_token_id is not None:
        conditions.append(d.api_token_id == api_token_id)
    query = (
        select(
            d.day,
            d.model_slug,
            d.api_token_id,
            func.sum(d.requests),
            func.sum(d.errors),
            func.sum(d.prompt_tokens),
            func.sum(d.completion_tokens),
            func.sum(d.units),
            func.sum(d.cost_nanos),
        )
        .where(*conditions)
        .group_by(d.day, d.model_slug, d.api_token_id)
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    per_day = [Totals() for _ in days]
    total = Totals()
    by_model: dict[str, Totals] = defaultdict(Totals)
    by_key: dict[int, Totals] = defaultdict(Totals)
    model_cost: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    key_cost: dict[int, list[int]] = defaultdict(lambda: [0] * len(days))
    for day, slug, key_id, *sums in rows:
        values = Totals(*(int(v or 0) for v in sums))
        i = index[day]
        per_day[i].add(values)
        total.add(values)
        by_model[slug].add(values)
        by_key[int(key_id)].add(values)
        model_cost[slug][i] += values.cost_nanos
        key_cost[int(key_id)][i] += values.cost_nanos
    return DailyUsage(
        start=start,
        end=end,
        days=days,
        per_day=per_day,
        total=total,
        by_model=sorted(by_model.items(), key=lambda kv: (-kv[1].cost_nanos, -kv[1].requests, kv[0])),
        by_key=sorted(by_key.items(), key=lambda kv: (-kv[1].cost_nanos, -kv[1].requests, kv[0])),
        model_cost_per_day=dict(model_cost),
        key_cost_per_day=dict(key_cost),
    )


async def used_models(sessions: SessionFactory, user_id: int) -> list[str]:
    """Every model slug in the user's rollups (for the filter)."""
    async with sessions() as session:
        rows = await session.scalars(
            select(UsageDaily.model_slug)
            .where(UsageDaily.user_id == user_id)
            .distinct()
            .order_by(UsageDaily.model_slug)
        )
        return list(rows)


@dataclass(frozen=True)
class RollupRow:
    day: date
    model_slug: str
    api_token_id: int
    totals: Totals


async def rollup_rows(
    sessions: SessionFactory,
    *,
    user_id: int,
    start: date,
    end: date,
    model: str | None = None,
    api_token_id: int | None = None,
) -> list[RollupRow]:
    """The rollups per (day, model, key), oldest first (providers summed): the CSV export."""
    day_range(start, end)
    d = UsageDaily
    conditions = [d.user_id == user_id, d.day >= start, d.day <= end]
    if model:
        conditions.append(d.model_slug == model)
    if api_token_id is not None:
        conditions.append(d.api_token_id == api_token_id)
    query = (
        select(
            d.day,
            d.model_slug,
            d.api_token_id,
            func.sum(d.requests),
            func.sum(d.errors),
            func.sum(d.prompt_tokens),
            func.sum(d.completion_tokens),
            func.sum(d.units),
            func.sum(d.cost_nanos),
        )
        .where(*conditions)
        .group_by(d.day, d.model_slug, d.api_token_id)
        .order_by(d.day, d.model_slug, d.api_token_id)
    )
    async with sessions() as session:
        rows = (await session.execute(query)).all()
    return [
        RollupRow(day, slug, int(key_id), Totals(*(int(v or 0) for v in sums)))
        for day, slug, key_id, *sums in rows
    ]
