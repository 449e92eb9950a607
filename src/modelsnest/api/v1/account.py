"""The key owner's own balance, usage log and per-request cost."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from modelsnest import billing
from modelsnest.api.deps import CallerDep, GatewayDep
from modelsnest.api.schemas import account as schemas
from modelsnest.billing import reports
from modelsnest.catalog.pricing import CostLine, breakdown_json
from modelsnest.errors import InvalidRequest, NotFound
from modelsnest.exact_json import dumps, money

router = APIRouter()


def _json(value: Any) -> Response:
    return Response(dumps(value), media_type="application/json")


@router.get("/credits", operation_id="get_credits", summary="Balance", **schemas.CREDITS)
async def credits(caller: CallerDep, gateway: GatewayDep) -> Response:
    """The key owner's balance, what is held by requests in flight, and what is available."""
    balance = await billing.get_balance(gateway.sessions, caller.user_id)
    return _json(
        {
            "object": "credits",
            "currency": "USD",
            "balance": money(balance.balance_nanos),
            "reserved": money(balance.reserved_nanos),
            "available": money(balance.available_nanos),
        }
    )


def _breakdown(entry: reports.UsageEntry) -> list[dict[str, Any]] | None:
    if entry.cost_breakdown is None:
        return None
    return breakdown_json(CostLine.from_record(record) for record in entry.cost_breakdown)


def entry_json(entry: reports.UsageEntry) -> dict[str, Any]:
    """One request's record, its cost broken down by dimension as it was billed (the
    upstream cost is the operator's business and never appears here)."""
    return {
        "id": entry.request_id,
        "object": "generation",
        "created": int(entry.created_at.timestamp()),
        "created_at": entry.created_at.isoformat(),
        "endpoint": entry.endpoint,
        "model": entry.model_slug,
        "provider": entry.provider_name,
        "upstream_model": entry.upstream_model,
        "prompt_tokens": entry.prompt_tokens,
        "completion_tokens": entry.completion_tokens,
        "total_tokens": entry.prompt_tokens + entry.completion_tokens,
        "prompt_tokens_details": {
            "cached_tokens": entry.cached_tokens,
            "cache_write_tokens": entry.cache_write_tokens,
            "audio_tokens": entry.audio_input_tokens,
        },
        "completion_tokens_details": {
            "reasoning_tokens": entry.reasoning_tokens,
            "audio_tokens": entry.audio_output_tokens,
        },
        "units": entry.units,
        "unit_type": entry.unit_type,
        "cost_usd": money(entry.cost_nanos),
        "price_version_id": entry.price_version_id,
        "cost_breakdown": _breakdown(entry),
        "latency_ms": entry.latency_ms,
        "time_to_first_token_ms": entry.ttft_ms,
        "status": entry.status,
        "http_status": entry.http_status,
        "error_code": entry.error_code,
        "cancelled": entry.cancelled,
        "streamed": entry.streamed,
    }


@router.get(
    "/generation", operation_id="get_generation", summary="One request's record", **schemas.GENERATION
)
async def generation(
    caller: CallerDep, gateway: GatewayDep, id: str = Query(..., min_length=1, max_length=64)
) -> Response:
    """One request's cost, tokens, provider, latency and outcome — for the key's owner only."""
    entry = await reports.get_request_usage(gateway.sessions, user_id=caller.user_id, request_id=id)
    if entry is None:
        raise NotFound(
            f"no generation with id '{id}' for this account", code="GENERATION_NOT_FOUND", param="id"
        )
    return _json(entry_json(entry))


def _day_start(value: date | None) -> datetime | None:
    return datetime.combine(value, time.min, tzinfo=UTC) if value else None


@router.get("/usage", operation_id="list_usage", summary="Usage log", **schemas.USAGE)
async def usage(
    caller: CallerDep,
    gateway: GatewayDep,
    start_date: date | None = Query(None, description="first day (UTC), inclusive"),
    end_date: date | None = Query(None, description="last day (UTC), inclusive"),
    model: str | None = Query(None, max_length=120),
    limit: int = Query(50, ge=1, le=reports.MAX_PAGE),
    cursor: str | None = Query(None, max_length=100),
) -> Response:
    """The key owner's usage, newest first, filterable by date and model, paginated."""
    if start_date and end_date and end_date < start_date:
        raise InvalidRequest("end_date is before start_date", param="end_date")
    end = _day_start(end_date + timedelta(days=1)) if end_date else None
    try:
        page = await reports.list_usage(
            gateway.sessions,
            user_id=caller.user_id,
            start=_day_start(start_date),
            end=end,
            model=model,
            limit=limit,
            cursor=cursor,
        )
    except ValueError as exc:
        raise InvalidRequest(str(exc), param="cursor") from exc
    totals = await reports.usage_totals(
        gateway.sessions, user_id=caller.user_id, start=start_date, end=end_date, model=model
    )
    return _json(
        {
            "object": "list",
            "data": [entry_json(e) for e in page.entries],
            "has_more": page.has_more,
            "next_cursor": page.next_cursor,
            "totals": {
                "requests": totals.requests,
                "errors": totals.errors,
                "prompt_tokens": totals.prompt_tokens,
                "completion_tokens": totals.completion_tokens,
                "units": totals.units,
                "cost_usd": money(totals.cost_nanos),
            },
        }
    )
