"""Read side of usage: one request's record, a key owner's paginated log, and rollup totals.

Every query is bounded by an index: ``usage_logs (user_id, created_at)`` for the log,
``request_id`` (unique) for one request, and ``usage_daily`` for totals — never a scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import UsageDaily, UsageLog

MAX_PAGE = 100


@dataclass(frozen=True)
class UsageEntry:
    id: int
    request_id: str
    created_at: datetime
    endpoint: str
    model_slug: str
    provider_name: str | None
    upstream_model: str | None
    prompt_tokens: int
    completion_tokens: int
    units: int
    unit_type: str | None
    cost_nanos: int
    latency_ms: int | None
    ttft_ms: int | None
    status: str
    http_status: int | None
    error_code: str | None
    cancelled: bool
    streamed: bool
    api_token_id: int | None
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0
    price_version_id: int | None = None
    cost_breakdown: list[dict[str, Any]] | None = None  # ``catalog.pricing.CostLine.as_record`` dicts
    # Operator-only: what the route's provider charged (None: unknown). Never shown to customers.
    upstream_cost_nanos: int | None = None
    upstream_price_version_id: int | None = None


@dataclass(frozen=True)
class UsagePage:
    entries: list[UsageEntry]
    has_more: bool
    next_cursor: str | None


@dataclass(frozen=True)
class UsageTotals:
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    units: int
    cost_nanos: int


def _entry(row: UsageLog) -> UsageEntry:
    return UsageEntry(
        id=row.id,
        request_id=row.request_id,
        created_at=row.created_at,
        endpoint=row.endpoint,
        model_slug=row.model_slug,
        provider_name=row.provider_name,
        upstream_model=row.upstream_model,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        units=row.units,
        unit_type=row.unit_type,
        cost_nanos=row.cost_nanos,
        latency_ms=row.latency_ms,
        ttft_ms=row.ttft_ms,
        status=row.status,
        http_status=row.http_status,
        error_code=row.error_code,
        cancelled=row.cancelled,
        streamed=row.streamed,
        api_token_id=row.api_token_id,
        cached_tokens=row.cached_tokens,
        cache_write_tokens=row.cache_write_tokens,
        reasoning_tokens=row.reasoning_tokens,
        audio_input_tokens=row.audio_input_tokens,
        audio_output_tokens=row.audio_output_tokens,
        price_version_id=row.price_version_id,
        cost_breakdown=row.cost_breakdown,
        upstream_cost_nanos=row.upstream_cost_nanos,
        upstream_price_version_id=row.upstream_price_version_id,
    )


async def get_request_usage(sessions: SessionFactory, *, user_id: int, request_id: str) -> UsageEntry | None:
    """One request's record, for its owner only (another user's id reads as unknown)."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(UsageLog).where(UsageLog.request_id == request_id, UsageLog.user_id == user_id)
            )
        ).scalar_one_or_none()
    return _entry(row) if row is not None else None


def _decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        stamp, _, ident = cursor.rpartition("_")
        return datetime.fromisoformat(stamp), int(ident)
    except ValueError:
        raise ValueError("cursor is not one this API returned") from None


async def list_usage(
    sessions: SessionFactory,
    *,
    user_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    model: str | None = None,
    api_token_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> UsagePage:
    """Newest first; keyset pagination on (created_at, id) so deep pages stay index-bound."""
    limit = max(1, min(limit, MAX_PAGE))
    conditions = [UsageLog.user_id == user_id]
    if start is not None:
        conditions.append(UsageLog.created_at >= start)
    if end is not None:
        conditions.append(UsageLog.created_at < end)
    if model:
        conditions.append(UsageLog.model_slug == model)
    if api_token_id is not None:
        conditions.append(UsageLog.api_token_id == api_token_id)
    position = _decode_cursor(cursor)
    if position is not None:
        stamp, ident = position
        conditions.append(
            or_(UsageLog.created_at < stamp, and_(UsageLog.created_at == stamp, UsageLog.id < ident))
        )
    query = (
        select(UsageLog)
        .where(*conditions)
        .order_by(UsageLog.created_at.desc(), UsageLog.id.desc())
        .limit(limit + 1)
    )
    async with sessions() as session:
        rows = list((await session.execute(query)).scalars())
    entries = [_entry(r) for r in rows[:limit]]
    has_more = len(rows) > limit
    next_cursor = f"{entries[-1].created_at.isoformat()}_{entries[-1].id}" if has_more and entries else None
    return UsagePage(entries, has_more, next_cursor)


async def usage_totals(
    sessions: SessionFactory,
    *,
    user_id: int,
    start: date | None = None,
    end: date | None = None,
    model: str | None = None,
    api_token_id: int | None = None,
) -> UsageTotals:
    """Totals from the daily rollups (inclusive day range)."""
    conditions = [UsageDaily.user_id == user_id]
    if start is not None:
        conditions.append(UsageDaily.day >= start)
    if end is not None:
        conditions.append(UsageDaily.day <= end)
    if model:
        conditions.append(UsageDaily.model_slug == model)
    if api_token_id is not None:
        conditions.append(UsageDaily.api_token_id == api_token_id)
    query = select(
        func.coalesce(func.sum(UsageDaily.requests), 0),
        func.coalesce(func.sum(UsageDaily.errors), 0),
        func.coalesce(func.sum(UsageDaily.prompt_tokens), 0),
        func.coalesce(func.sum(UsageDaily.completion_tokens), 0),
        func.coalesce(func.sum(UsageDaily.units), 0),
        func.coalesce(func.sum(UsageDaily.cost_nanos), 0),
    ).where(*conditions)
    async with sessions() as session:
        row = (await session.execute(query)).one()
    return UsageTotals(*(int(v) for v in row))
