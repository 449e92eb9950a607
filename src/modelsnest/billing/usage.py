"""Usage rows: one ``usage_logs`` row per request and its share of the ``usage_daily`` rollup,
always written in the same transaction as the money they describe."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any, Final

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.billing import _checks, _db
from modelsnest.billing.types import UsageRecord
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import Conflict, NotFound

_RECORD_FIELDS: Final = tuple(field.name for field in fields(UsageRecord))
# The rollup's key is its primary key; every other column is a sum.
ROLLUP_KEY: Final = tuple(c.name for c in _db.usage_daily.primary_key.columns)
ROLLUP_SUMMED: Final = tuple(c.name for c in _db.usage_daily.c if c.name not in ROLLUP_KEY)


async def record_usage(sessions: SessionFactory, usage: UsageRecord) -> None:
    """Log a request that never held credits (refused before billing, free): cost 0."""
    _checks.usage(usage)
    async with sessions.begin() as session:
        await write_usage(session, usage, cost_nanos=0, now=utcnow())


def usage_log_row(
    usage: UsageRecord, *, cost_nanos: int, now: datetime, meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The ``usage_logs`` row of a request, column by column: every field of the record under
    its own name (so a new field cannot be forgotten), the cost charged and the time.

    ``meta`` replaces ``usage.meta`` when the ledger has something to add (e.g. a shortfall).
    The hot ledger writes this same dict."""
    row = {name: getattr(usage, name) for name in _RECORD_FIELDS}
    if meta is not None:
        row["meta"] = meta
    row["cost_nanos"] = cost_nanos
    row["created_at"] = now
    return row


def usage_daily_row(usage: UsageRecord, *, cost_nanos: int, now: datetime) -> dict[str, Any]:
    """This request's share of the day's rollup row (the key columns, then the summed ones).

    ``cost_nanos`` is what was charged; it counts in ``upstream_uncosted_nanos`` too when the
    request's upstream cost is unknown, so a rollup's margin covers exactly its costed part."""
    return {
        "day": now.date(),  # UTC: ``now`` is always an aware UTC datetime here
        "user_id": usage.user_id,
        "api_token_id": usage.api_token_id or 0,  # 0 = no key (dashboard, playground)
        "model_slug": usage.model_slug,
        "provider_name": usage.provider_name or "",  # '' = no provider answered
        "requests": 1,
        "errors": 1 if usage.status == "error" else 0,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "units": usage.units,
        "cost_nanos": cost_nanos,
        "cached_tokens": usage.cached_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "audio_input_tokens": usage.audio_input_tokens,
        "audio_output_tokens": usage.audio_output_tokens,
        "upstream_cost_nanos": usage.upstream_cost_nanos or 0,
        "upstream_uncosted_nanos": cost_nanos if usage.upstream_cost_nanos is None else 0,
    }


async def write_usage(
    session: AsyncSession,
    usage: UsageRecord,
    *,
    cost_nanos: int,
    now: datetime,
    meta: dict[str, Any] | None = None,
) -> None:
    """Insert the request's row (with the cost actually charged) and add it to the rollup."""
    row = usage_log_row(usage, cost_nanos=cost_nanos, now=now, meta=meta)
    row["meta"] = _db.json_value(row["meta"])
    row["cost_breakdown"] = _db.json_value(row["cost_breakdown"])
    try:
        await session.execute(insert(_db.usage_logs).values(row))
    except IntegrityError as exc:
        found = _db.violation(exc)
        if found.is_unique("usage_logs", "request_id"):
            raise Conflict(f"usage of request {usage.request_id!r} is already recorded") from exc
        if found.kind == "foreign_key":
            raise NotFound(f"user {usage.user_id} or API key {usage.api_token_id} does not exist") from exc
        raise
    await _add_to_rollup(session, usage, cost_nanos=cost_nanos, now=now)


async def _add_to_rollup(
    session: AsyncSession, usage: UsageRecord, *, cost_nanos: int, now: datetime
) -> None:
    statement = _db.upsert(session, _db.usage_daily).values(
        usage_daily_row(usage, cost_nanos=cost_nanos, now=now)
    )
    # One statement that either inserts the day's row or adds to it, race-free on both databases.
    statement = statement.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY),
        set_={name: _db.usage_daily.c[name] + statement.excluded[name] for name in ROLLUP_SUMMED},
    )
    await session.execute(statement)
