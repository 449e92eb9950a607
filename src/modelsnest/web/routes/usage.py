"""``/dashboard/usage``: requests, tokens and cost per day (from the daily rollups), split by
model and by key; the recent requests (each opens its ``/generation`` record); a CSV export.

Only the signed-in user's own usage is ever read: another user's request id is a 404."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.api.v1.account import entry_json
from modelsnest.auth.api_keys import list_keys
from modelsnest.auth.web_sessions import SignedIn
from modelsnest.billing import analytics, reports
from modelsnest.errors import InvalidRequest
from modelsnest.money import usd_str
from modelsnest.web import context as web
from modelsnest.web.deps import RequireUser
from modelsnest.web.errors import PageError
from modelsnest.web.render import render

router = APIRouter(prefix="/dashboard/usage", include_in_schema=False)
csv_router = APIRouter(include_in_schema=False)

PAGE = "pages/dashboard/usage/index.html"
DETAIL = "pages/dashboard/usage/request.html"
RANGES = ("7", "30", "90")
PAGE_SIZE = 25
TOP_SERIES = 3
NO_KEY_LABEL = "No key (dashboard)"
REQUEST_NOT_FOUND = PageError(
    404,
    "Request not found",
    "There is no request with this id in your account. Check the link, or open it from the usage page.",
)


@dataclass(frozen=True)
class Filters:
    range: str  # 7 | 30 | 90 | custom
    start: date
    end: date
    model: str
    key: int | None

    def query(self, **extra: str) -> str:
        from urllib.parse import urlencode

        values: dict[str, str] = {"range": self.range}
        if self.range == "custom":
            values |= {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.model:
            values["model"] = self.model
        if self.key is not None:
            values["key"] = str(self.key)
        return urlencode(values | extra)


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"enter the {name} date as YYYY-MM-DD", param=name) from None


def read_filters(request: Request, today: date | None = None) -> Filters:
    query = request.query_params
    today = today or datetime.now(UTC).date()
    chosen = query.get("range", "30")
    key_text = query.get("key", "").strip()
    if key_text and not key_text.isdigit():
        raise InvalidRequest("choose a key from the list", param="key")
    key = int(key_text) if key_text else None
    model = query.get("model", "").strip()[:120]
    if chosen == "custom" or (chosen not in RANGES and (query.get("from") or query.get("to"))):
        start = _date(query.get("from", ""), "from")
        end = _date(query.get("to", "") or today.isoformat(), "to")
        analytics.day_range(start, end)
        return Filters("custom", start, end, model, key)
    if chosen not in RANGES:
        chosen = "30"
    return Filters(chosen, today - timedelta(days=int(chosen) - 1), today, model, key)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _epoch(day: date) -> int:
    return int(_day_start(day).timestamp())


def _series(named: dict[Any, list[int]], order: list[Any], label: Any, days: int) -> list[dict[str, Any]]:
    top = order[:TOP_SERIES]
    series = [{"label": label(k), "values": named[k]} for k in top]
    rest = [named[k] for k in order[TOP_SERIES:]]
    if rest:
        series.append({"label": "Other", "values": [sum(v[i] for v in rest) for i in range(days)]})
    return series


async def _key_names(request: Request, user: SignedIn) -> dict[int, str]:
    keys = await list_keys(web.services(request).sessions, user.user_id)
    return {k.id: k.name for k in keys}


@router.get("")
async def usage_page(request: Request, user: RequireUser) -> Response:
    services = web.services(request)
    names = await _key_names(request, user)
    models = await analytics.used_models(services.sessions, user.user_id)
    try:
        filters = read_filters(request)
    except InvalidRequest as exc:
        today = datetime.now(UTC).date()
        filters = Filters("30", today - timedelta(days=29), today, "", None)
        error: str | None = exc.message
    else:
        error = None
    data = await analytics.daily_usage(
        services.sessions,
        user_id=user.user_id,
        start=filters.start,
        end=filters.end,
        model=filters.model or None,
        api_token_id=filters.key,
    )

    def key_label(key_id: int) -> str:
        return NO_KEY_LABEL if key_id == analytics.NO_KEY else names.get(key_id, f"Deleted key #{key_id}")

    x = [_epoch(day) for day in data.days]
    split = "key" if request.query_params.get("split") == "key" else "model"
    if split == "key":
        cost_series = _series(data.key_cost_per_day, [k for k, _ in data.by_key], key_label, len(x))
    else:
        cost_series = _series(data.model_cost_per_day, [m for m, _ in data.by_model], str, len(x))
    charts = {
        "requests": {
            "x": x,
            "time": True,
            "xLabel": "Day (UTC)",
            "yLabel": "Requests",
            "series": [
                {"label": "Requests", "values": [d.requests for d in data.per_day]},
                {"label": "Errors", "values": [d.errors for d in data.per_day]},
            ],
        },
        "tokens": {
            "x": x,
            "time": True,
            "xLabel": "Day (UTC)",
            "yLabel": "Tokens",
            "series": [
                {"label": "Prompt", "values": [d.prompt_tokens for d in data.per_day]},
                {"label": "Completion", "values": [d.completion_tokens for d in data.per_day]},
            ],
        },
        "cost": {
            "x": x,
            "time": True,
            "xLabel": "Day (UTC)",
            "yLabel": "Cost (USD)",
            "yPrefix": "$",
            "yDivisor": 1_000_000_000,  # values are integer nano-dollars
            "ySize": 84,
            "series": cost_series or [{"label": "Cost", "values": [0 for _ in x]}],
        },
    }
    cursor = request.query_params.get("cursor") or None
    try:
        recent = await reports.list_usage(
            services.sessions,
            user_id=user.user_id,
            start=_day_start(filters.start),
            end=_day_start(filters.end + timedelta(days=1)),
            model=filters.model or None,
            api_token_id=filters.key if filters.key != analytics.NO_KEY else None,
            limit=PAGE_SIZE,
            cursor=cursor,
        )
    except ValueError:
        recent = await reports.list_usage(
            services.sessions, user_id=user.user_id, start=_day_start(filters.start), limit=PAGE_SIZE
        )
        cursor = None
    values: dict[str, Any] = {
        "filters": filters,
        "ranges": RANGES,
        "split": split,
        "error": error,
        "data": data,
        "charts": charts,
        "recent": recent,
        "cursor": cursor,
        "models": models,
        "keys": sorted(names.items(), key=lambda kv: kv[1].lower()),
        "key_label": key_label,
        "today": datetime.now(UTC).date(),
    }
    return await render(request, PAGE, values, status_code=400 if error else 200)


@router.get("/requests/{request_id}")
async def request_detail(request: Request, request_id: str, user: RequireUser) -> Response:
    if len(request_id) > 64:
        raise REQUEST_NOT_FOUND
    services = web.services(request)
    entry = await reports.get_request_usage(services.sessions, user_id=user.user_id, request_id=request_id)
    if entry is None:
        raise REQUEST_NOT_FOUND
    names = await _key_names(request, user)
    record_text = orjson.dumps(entry_json(entry), option=orjson.OPT_INDENT_2).decode()
    key_name = names.get(entry.api_token_id, "Deleted key") if entry.api_token_id else NO_KEY_LABEL
    return await render(request, DETAIL, {"entry": entry, "record_text": record_text, "key_name": key_name})


CSV_COLUMNS = (
    "date",
    "model",
    "key_id",
    "key_name",
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "units",
    "cost_usd",
)


@csv_router.get("/dashboard/usage.csv")
async def usage_csv(request: Request, user: RequireUser) -> Response:
    """One line per (day, model, key) with usage, from the rollups; the page's filters apply."""
    services = web.services(request)
    try:
        filters = read_filters(request)
    except InvalidRequest as exc:
        raise PageError(400, "That range does not work", exc.message) from exc
    names = await _key_names(request, user)
    rows = await analytics.rollup_rows(
        services.sessions,
        user_id=user.user_id,
        start=filters.start,
        end=filters.end,
        model=filters.model or None,
        api_token_id=filters.key,
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        name = NO_KEY_LABEL if row.api_token_id == analytics.NO_KEY else names.get(row.api_token_id, "")
        writer.writerow(
            (
                row.day.isoformat(),
                row.model_slug,
                row.api_token_id,
                name,
                row.totals.requests,
                row.totals.errors,
                row.totals.prompt_tokens,
                row.totals.completion_tokens,
                row.totals.units,
                usd_str(row.totals.cost_nanos),
            )
        )
    filename = f"modelsnest-usage-{filters.start.isoformat()}-to-{filters.end.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
