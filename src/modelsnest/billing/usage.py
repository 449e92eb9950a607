"""Usage rows: one ``usage_logs`` row per request and its share of the ``usage_daily`` rollup,
always written in the same transaction as the money they describe."""

from __future__ import annotations

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

_SUMMED: Final = ("requests", "errors", "prompt_tokens", "completion_tokens", "units", "cost_nanos")


async def record_usage(sessions: SessionFactory, usage: UsageRecord) -> None:
    """Log a request that never held credits (refused before billing, free): cost 0."""
    _checks.usage(usage)
    async with sessions.begin() as session:
        await write_usage(session, usage, cost_nanos=0, now=utcnow())


async def write_usage(
    session: AsyncSession,
    usage: UsageRecord,
    *,
    cost_nanos: int,
    now: datetime,
    meta: dict[str, Any] | None = None,
) -> None:
    """Insert the request's row (with the cost actually charged) and add it to the rollup.

    ``meta`` replaces ``usage.meta`` when the ledger has something to add (e.g. a shortfall)."""
    row_meta = usage.meta if meta is None else meta
    log_row = insert(_db.usage_logs).values(
        request_id=usage.request_id,
        user_id=usage.user_id,
        api_token_id=usage.api_token_id,
        endpoint=usage.endpoint,
        model_slug=usage.model_slug,
        provider_name=usage.provider_name,
        upstream_model=usage.upstream_model,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        units=usage.units,
        unit_type=usage.unit_type,
        cost_nanos=cost_nanos,
        latency_ms=usage.latency_ms,
        ttft_ms=usage.ttft_ms,
        status=usage.status,
        http_status=usage.http_status,
        error_code=usage.error_code,
        error_message=usage.error_message,
        cancelled=usage.cancelled,
        streamed=usage.streamed,
        meta=_db.json_value(row_meta),
        created_at=now,
    )
    try:
        await session.execute(log_row)
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
        day=now.date(),  # UTC: ``now`` is always an aware UTC datetime here
        user_id=usage.user_id,
        api_token_id=usage.api_token_id or 0,  # 0 = no key (dashboard, playground)
        model_slug=usage.model_slug,
        requests=1,
        errors=1 if usage.status == "error" else 0,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        units=usage.units,
        cost_nanos=cost_nanos,
    )
    # One statement that either inserts the day's row or adds to it, race-free on both databases.
    statement = statement.on_conflict_do_update(
        index_elements=["day", "user_id", "api_token_id", "model_slug"],
        set_={name: _db.usage_daily.c[name] + statement.excluded[name] for name in _SUMMED},
    )
    await session.execute(statement)
