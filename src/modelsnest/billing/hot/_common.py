"""What both backends share: the reference's argument checks (same checks, same order, same
errors), the values of a new hold, the usage rows, and the conversion of Python values to
exactly what SQLAlchemy would hand the driver for the same column."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final
from uuid import uuid4

from sqlalchemy import Column
from sqlalchemy.engine import Dialect

from modelsnest.billing import _checks, _db, holds, settlement
from modelsnest.billing.types import HoldResult, UsageRecord
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import InsufficientCredits, InvalidRequest
from modelsnest.money import format_usd

# The usage_logs / usage_daily columns a usage row writes, in the order of the value tuples below.
USAGE_LOG_COLUMNS: Final = (
    "request_id",
    "user_id",
    "api_token_id",
    "endpoint",
    "model_slug",
    "provider_name",
    "upstream_model",
    "prompt_tokens",
    "completion_tokens",
    "units",
    "unit_type",
    "cost_nanos",
    "latency_ms",
    "ttft_ms",
    "status",
    "http_status",
    "error_code",
    "error_message",
    "cancelled",
    "streamed",
    "meta",
    "created_at",
)
USAGE_DAILY_KEY: Final = ("day", "user_id", "api_token_id", "model_slug")
USAGE_DAILY_SUMMED: Final = (
    "requests",
    "errors",
    "prompt_tokens",
    "completion_tokens",
    "units",
    "cost_nanos",
)
USAGE_DAILY_COLUMNS: Final = USAGE_DAILY_KEY + USAGE_DAILY_SUMMED


class Delegate(Exception):
    """Not the common path (a replay, a hold that is not active, a cost above the hold, a
    collision): nothing was written; let the reference implementation decide."""


Processor = Callable[[Any], Any]


def _bind_processor(column: Column[Any], dialect: Dialect) -> Processor:
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor if processor is not None else _identity


def _identity(value: Any) -> Any:
    return value


class Encoder:
    """Python values → driver values through the column types' own bind processors for the
    engine's dialect (``UTCDateTime``, ``Date``, ``JSON``, ``Boolean``), so the hot path stores
    the same bytes as the reference (on SQLite: naive UTC text in SQLAlchemy's format, JSON
    text from the engine's serializer) and ORM reads stay correct."""

    def __init__(self, dialect: Dialect) -> None:
        self._time = _bind_processor(_db.holds.c.created_at, dialect)
        self._day = _bind_processor(_db.usage_daily.c.day, dialect)
        self._json = _bind_processor(_db.holds.c.meta, dialect)
        self._flag = _bind_processor(_db.usage_logs.c.streamed, dialect)

    def time(self, value: datetime) -> Any:
        return self._time(value)

    def day(self, value: date) -> Any:
        return self._day(value)

    def json(self, value: dict[str, Any] | None) -> Any:
        return None if value is None else self._json(value)  # SQL NULL, as ``_db.json_value``

    def flag(self, value: bool) -> Any:
        return self._flag(value)


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """A checked ``hold`` call and the values of the row it creates."""

    hold_id: str
    user_id: int
    amount: int
    key: str
    api_token_id: int | None
    request_id: str | None
    ttl_seconds: int
    meta: dict[str, Any] | None
    now: datetime
    expires_at: datetime

    def result(self) -> HoldResult:
        return HoldResult(self.hold_id, self.user_id, self.amount, self.expires_at, replayed=False)


def hold_request(
    *,
    user_id: int,
    amount_nanos: int,
    idempotency_key: str,
    api_token_id: int | None,
    request_id: str | None,
    ttl_seconds: int,
    meta: dict[str, Any] | None,
) -> HoldRequest:
    """``billing.hold``'s checks and values, unchanged."""
    _checks.positive_int(user_id, "user_id")
    amount = _checks.nanos(amount_nanos, "amount_nanos")
    key = _checks.key(idempotency_key)
    if api_token_id is not None:
        _checks.positive_int(api_token_id, "api_token_id")
    _checks.optional_text(request_id, "request_id", 64)
    if _checks.positive_int(ttl_seconds, "ttl_seconds") > holds.MAX_TTL_SECONDS:
        raise InvalidRequest(f"ttl_seconds may be at most {holds.MAX_TTL_SECONDS}", param="ttl_seconds")
    now = utcnow()
    return HoldRequest(
        hold_id=f"hold_{uuid4().hex}",
        user_id=user_id,
        amount=amount,
        key=key,
        api_token_id=api_token_id,
        request_id=request_id,
        ttl_seconds=ttl_seconds,
        meta=meta,
        now=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )


def insufficient(amount: int, available: int | None) -> InsufficientCredits:
    """The reference's 402, word for word (no account row: nothing is available)."""
    return InsufficientCredits(
        f"insufficient credits: this request may cost up to {format_usd(amount)} "
        f"but {format_usd(available or 0)} is available"
    )


async def delegate_hold(sessions: SessionFactory, request: HoldRequest) -> HoldResult:
    return await holds.hold(
        sessions,
        user_id=request.user_id,
        amount_nanos=request.amount,
        idempotency_key=request.key,
        api_token_id=request.api_token_id,
        request_id=request.request_id,
        ttl_seconds=request.ttl_seconds,
        meta=request.meta,
    )


def checked_cost(cost_nanos: int, usage: UsageRecord) -> int:
    """``billing.settle``'s checks."""
    cost = _checks.nanos(cost_nanos, "cost_nanos")
    _checks.usage(usage)
    return cost


def check_release_usage(usage: UsageRecord | None) -> None:
    if usage is not None:
        _checks.usage(usage)


def settle_key(hold_id: str) -> str:
    return settlement.settle_key(hold_id)


def ledger_description(usage: UsageRecord) -> str:
    return f"{usage.endpoint} {usage.model_slug}"


def usage_log_values(encoder: Encoder, usage: UsageRecord, *, cost: int, now: datetime) -> tuple[Any, ...]:
    """One ``usage_logs`` row (USAGE_LOG_COLUMNS order), as ``usage.write_usage`` writes it
    on the common path (the charge equals the cost, so the meta is the record's own)."""
    return (
        usage.request_id,
        usage.user_id,
        usage.api_token_id,
        usage.endpoint,
        usage.model_slug,
        usage.provider_name,
        usage.upstream_model,
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.units,
        usage.unit_type,
        cost,
        usage.latency_ms,
        usage.ttft_ms,
        usage.status,
        usage.http_status,
        usage.error_code,
        usage.error_message,
        encoder.flag(usage.cancelled),
        encoder.flag(usage.streamed),
        encoder.json(usage.meta),
        encoder.time(now),
    )


def usage_daily_values(encoder: Encoder, usage: UsageRecord, *, cost: int, now: datetime) -> tuple[Any, ...]:
    """This request's share of the day's rollup row (USAGE_DAILY_COLUMNS order)."""
    return (
        encoder.day(now.date()),  # UTC: ``now`` is an aware UTC datetime
        usage.user_id,
        usage.api_token_id or 0,  # 0 = no key (dashboard, playground)
        usage.model_slug,
        1,
        1 if usage.status == "error" else 0,
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.units,
        cost,
    )
