"""What both backends share: the reference's argument checks (same checks, same order, same
errors), the values of a new hold, the usage rows (the reference's own dicts), and the
conversion of Python values to exactly what SQLAlchemy would hand the driver for the same
column."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any
from uuid import uuid4

from sqlalchemy import Column, Table
from sqlalchemy.engine import Dialect

from modelsnest.billing import _checks, _db, holds, settlement
from modelsnest.billing.hot._columns import REPLY_COLUMNS, USAGE_DAILY_COLUMNS, USAGE_LOG_COLUMNS
from modelsnest.billing.types import HoldResult, StoredReply, UsageRecord
from modelsnest.billing.usage import usage_daily_row, usage_log_row
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import InsufficientCredits, InvalidRequest
from modelsnest.money import format_usd


class Delegate(Exception):
    """Not the common path (a replay, a hold that is not active, a cost above the hold, a
    collision): nothing was written; let the reference implementation decide."""


Processor = Callable[[Any], Any]


def _bind_processor(column: Column[Any], dialect: Dialect) -> Processor:
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor if processor is not None else _identity


def _identity(value: Any) -> Any:
    return value


class RowEncoder:
    """A row (column -> Python value) → the driver's parameter tuple, in ``columns`` order.

    None is SQL NULL for every column (for JSON too, as ``_db.json_value``: a bare None would
    otherwise be stored as the JSON text 'null'). Only columns whose type has a bind processor
    are converted: this runs on every settle."""

    def __init__(self, table: Table, columns: tuple[str, ...], dialect: Dialect) -> None:
        self.columns = columns
        self._get = itemgetter(*columns)
        self._convert = tuple(
            (i, processor)
            for i, name in enumerate(columns)
            if (processor := _bind_processor(table.c[name], dialect)) is not _identity
        )

    def __call__(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        values = list(self._get(row))
        for i, convert in self._convert:
            if values[i] is not None:
                values[i] = convert(values[i])
        return tuple(values)


class Encoder:
    """Python values → driver values through the column types' own bind processors for the
    engine's dialect (``UTCDateTime``, ``Date``, ``JSON``, ``Boolean``, ``LargeBinary``), so the
    hot path stores the same bytes as the reference (on SQLite: naive UTC text in SQLAlchemy's
    format, JSON text from the engine's serializer) and ORM reads stay correct."""

    def __init__(self, dialect: Dialect) -> None:
        self._time = _bind_processor(_db.holds.c.created_at, dialect)
        self._json = _bind_processor(_db.holds.c.meta, dialect)
        self.usage_log = RowEncoder(_db.usage_logs, USAGE_LOG_COLUMNS, dialect)
        self.usage_daily = RowEncoder(_db.usage_daily, USAGE_DAILY_COLUMNS, dialect)
        self.reply = RowEncoder(_db.idempotency, REPLY_COLUMNS, dialect)

    def time(self, value: datetime) -> Any:
        return self._time(value)

    def json(self, value: dict[str, Any] | None) -> Any:
        return None if value is None else self._json(value)  # SQL NULL, as ``_db.json_value``


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


def checked_cost(cost_nanos: int, usage: UsageRecord, reply: StoredReply | None = None) -> int:
    """``billing.settle``'s checks."""
    cost = _checks.nanos(cost_nanos, "cost_nanos")
    _checks.usage(usage)
    _checks.reply(reply, usage)
    return cost


def check_release_usage(usage: UsageRecord | None) -> None:
    if usage is not None:
        _checks.usage(usage)


def settle_key(hold_id: str) -> str:
    return settlement.settle_key(hold_id)


def ledger_description(usage: UsageRecord) -> str:
    return f"{usage.endpoint} {usage.model_slug}"


def usage_log_values(encoder: Encoder, usage: UsageRecord, *, cost: int, now: datetime) -> tuple[Any, ...]:
    """The ``usage_logs`` row (USAGE_LOG_COLUMNS order) that ``usage.write_usage`` writes on the
    common path (the charge equals the cost, so the meta is the record's own)."""
    return encoder.usage_log(usage_log_row(usage, cost_nanos=cost, now=now))


def usage_daily_values(encoder: Encoder, usage: UsageRecord, *, cost: int, now: datetime) -> tuple[Any, ...]:
    """This request's share of the day's rollup row (USAGE_DAILY_COLUMNS order)."""
    return encoder.usage_daily(usage_daily_row(usage, cost_nanos=cost, now=now))


def reply_values(encoder: Encoder, reply: StoredReply) -> tuple[Any, ...]:
    """What the idempotency record is set to (REPLY_COLUMNS order), as the reference sets it."""
    return encoder.reply(settlement.reply_values(reply))
