"""The hourly health rollup: new ``usage_logs`` rows, found by an id watermark, counted into
``usage_health_hourly`` and ``usage_latency_hourly`` by a background loop.

Exactly once, on any number of replicas: a round reads the watermark, reads the next batch
of rows, then in one transaction moves the watermark by compare-and-set
(``UPDATE … SET last_id = new WHERE last_id = old``) and adds the batch's counts. Of two
replicas that read the same watermark, the second's compare-and-set matches no row (on
PostgreSQL it waits for the first's commit, then sees the new value; SQLite serialises
writers), so it rolls back and counts nothing. Usage rows never change after insert, so
reading them outside the transaction is safe.

Ids are handed out when a row is inserted, not when its transaction commits: on PostgreSQL a
row with a smaller id can appear after a larger one. The rollup therefore stops at the first
row younger than ``settle_seconds`` (a minute) and only moves past rows at least that old, so
a transaction that committed within a minute of writing its row is never skipped. Request
transactions take milliseconds. SQLite has one writer at a time, so ids appear in order and
no delay is needed there.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.health import (
    HealthRollupState,
    ProviderHealthHourly,
    UsageHealthHourly,
    UsageLatencyHourly,
)
from modelsnest.db.models.usage import UsageLog
from modelsnest.health._sql import add_to_rows
from modelsnest.health.latency import bucket_of

log = logging.getLogger(__name__)

ROLLUP_NAME: Final = "usage_health"
BATCH_ROWS: Final = 20_000
SETTLE_SECONDS_POSTGRES: Final = 60.0
ROUND_SECONDS: Final = 60.0
RETENTION_DAYS: Final = 400
NO_PROVIDER: Final = ""  # provider_name of requests no provider answered

_HEALTH = UsageHealthHourly.__table__
_LATENCY = UsageLatencyHourly.__table__
_HEALTH_KEY: Final = ("hour", "model_slug", "provider_name")
_HEALTH_SUMMED: Final = ("requests", "errors", "client_errors", "cost_nanos")
_LATENCY_KEY: Final = ("hour", "model_slug", "provider_name", "bucket")


def outcome(status: str, http_status: int | None, error_code: str | None) -> str:
    """``ok``, ``error`` (ours or upstream's: 5xx, timeouts, broken streams) or ``client``
    (4xx: the caller's input, balance or limits), as health counts a request."""
    if status in ("success", "cancelled"):
        return "ok"
    if status == "partial" or error_code == "UPSTREAM_STREAM_BROKEN":
        return "error"
    if status == "error" and http_status is not None and 400 <= http_status < 500:
        return "client"
    return "error"


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class RollupRound:
    """What one round did: how many rows it counted and the watermark it left."""

    rows: int
    last_id: int
    claimed: bool  # False: another replica counted this batch first


def _counts(rows: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    health: dict[tuple[datetime, str, str], dict[str, Any]] = {}
    latency: dict[tuple[datetime, str, str, int], int] = defaultdict(int)
    for row in rows:
        hour = hour_of(row.created_at)
        provider = row.provider_name or NO_PROVIDER
        key = (hour, row.model_slug, provider)
        entry = health.get(key)
        if entry is None:
            entry = {
                "hour": hour,
                "model_slug": row.model_slug,
                "provider_name": provider,
                "day": hour.date(),
                "requests": 0,
                "errors": 0,
                "client_errors": 0,
                "cost_nanos": 0,
            }
            health[key] = entry
        kind = outcome(row.status, row.http_status, row.error_code)
        entry["requests"] += 1
        entry["cost_nanos"] += row.cost_nanos or 0
        if kind == "error":
            entry["errors"] += 1
        elif kind == "client":
            entry["client_errors"] += 1
        elif row.status == "success" and row.latency_ms is not None:
            latency[(*key, bucket_of(row.latency_ms))] += 1
    latency_rows = [
        {"hour": h, "model_slug": m, "provider_name": p, "bucket": b, "requests": n}
        for (h, m, p, b), n in latency.items()
    ]
    return list(health.values()), latency_rows


async def _watermark(sessions: SessionFactory) -> int:
    async with sessions() as session:
        found = await session.scalar(
            select(HealthRollupState.last_id).where(HealthRollupState.name == ROLLUP_NAME)
        )
        if found is not None:
            return int(found)
    try:
        async with sessions.begin() as session:
            await session.execute(
                insert(HealthRollupState).values(name=ROLLUP_NAME, last_id=0, updated_at=utcnow())
            )
    except IntegrityError:
        pass  # another replica created it first
    return 0


def settle_seconds_for(sessions: SessionFactory) -> float:
    """How old a row must be before the rollup moves past it (see the module docstring)."""
    bind = sessions.kw.get("bind")
    dialect = bind.dialect.name if bind is not None else "postgresql"
    return 0.0 if dialect == "sqlite" else SETTLE_SECONDS_POSTGRES


async def aggregate_once(
    sessions: SessionFactory,
    *,
    now: datetime | None = None,
    settle_seconds: float | None = None,
    batch: int = BATCH_ROWS,
) -> RollupRound:
    """Count the next batch of settled usage rows (at most ``batch``) into the rollups."""
    moment = now or utcnow()
    settle = settle_seconds_for(sessions) if settle_seconds is None else settle_seconds
    old = await _watermark(sessions)
    async with sessions() as session:
        query = select(
            UsageLog.id,
            UsageLog.created_at,
            UsageLog.model_slug,
            UsageLog.provider_name,
            UsageLog.status,
            UsageLog.http_status,
            UsageLog.error_code,
            UsageLog.latency_ms,
            UsageLog.cost_nanos,
        ).where(UsageLog.id > old)
        if settle > 0:
            cutoff = moment - timedelta(seconds=settle)
            young = await session.scalar(
                select(func.min(UsageLog.id)).where(UsageLog.id > old, UsageLog.created_at > cutoff)
            )
            if young is not None:
                query = query.where(UsageLog.id < young)
        rows = list((await session.execute(query.order_by(UsageLog.id).limit(batch))).all())
    if not rows:
        return RollupRound(0, old, True)
    new = int(rows[-1].id)
    health_rows, latency_rows = _counts(rows)
    try:
        async with sessions.begin() as session:
            claimed = await session.execute(
                update(HealthRollupState)
                .where(HealthRollupState.name == ROLLUP_NAME, HealthRollupState.last_id == old)
                .values(last_id=new, updated_at=moment)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise _Lost
            await session.execute(add_to_rows(session, _HEALTH, _HEALTH_KEY, _HEALTH_SUMMED), health_rows)
            if latency_rows:
                await session.execute(
                    add_to_rows(session, _LATENCY, _LATENCY_KEY, ("requests",)), latency_rows
                )
    except _Lost:
        return RollupRound(0, old, False)
    return RollupRound(len(rows), new, True)


class _Lost(Exception):
    """Another replica moved the watermark first: this round's transaction rolls back."""


async def aggregate_pending(
    sessions: SessionFactory,
    *,
    now: datetime | None = None,
    settle_seconds: float | None = None,
    batch: int = BATCH_ROWS,
    max_rounds: int = 50,
) -> int:
    """Rounds until caught up (or ``max_rounds``); returns how many rows this replica counted."""
    counted = 0
    for _ in range(max_rounds):
        result = await aggregate_once(sessions, now=now, settle_seconds=settle_seconds, batch=batch)
        counted += result.rows
        if result.claimed and result.rows < batch:
            break
    return counted


async def last_rollup(sessions: SessionFactory) -> datetime | None:
    """When the rollup last moved (None before its first round): how fresh the status page is."""
    async with sessions() as session:
        found: datetime | None = await session.scalar(
            select(HealthRollupState.updated_at).where(HealthRollupState.name == ROLLUP_NAME)
        )
        return found


async def purge_before(sessions: SessionFactory, before: datetime) -> None:
    """Drop rollup rows of hours before ``before`` (the retention; safe on every replica)."""
    async with sessions.begin() as session:
        for model in (UsageHealthHourly, UsageLatencyHourly, ProviderHealthHourly):
            await session.execute(delete(model).where(model.hour < before))


async def run_health_rollup(
    sessions: SessionFactory, *, interval: float = ROUND_SECONDS, rng: random.Random | None = None
) -> None:
    """The background loop: a round a minute (jittered, so replicas rarely collide), and the
    retention purge about once an hour."""
    chooser = rng or random.Random()
    rounds = 0
    while True:
        await asyncio.sleep(interval * chooser.uniform(0.8, 1.2))
        try:
            await aggregate_pending(sessions)
            if rounds % 60 == 0:
                await purge_before(sessions, hour_of(utcnow()) - timedelta(days=RETENTION_DAYS))
            rounds += 1
        except Exception:
            log.warning("health rollup round failed", exc_info=True)


__all__ = [
    "NO_PROVIDER",
    "RollupRound",
    "aggregate_once",
    "aggregate_pending",
    "hour_of",
    "last_rollup",
    "outcome",
    "purge_before",
    "run_health_rollup",
]
