"""The hourly health rollup on SQLite and PostgreSQL: usage rows counted by hour, model and
provider with the right outcome, each row exactly once (re-runs, several replicas at once),
and never past a row too young to be safe."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from modelsnest.db.models.health import UsageHealthHourly
from modelsnest.health import aggregate_once, aggregate_pending, last_rollup, model_health, provider_health
from modelsnest.health.rollup import outcome
from modelsnest.runtime import Runtime
from tests.health.conftest import a_user, usage

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_outcomes_separate_our_failures_from_the_callers() -> None:
    assert outcome("success", 200, None) == "ok"
    assert outcome("cancelled", 200, None) == "ok"
    assert outcome("partial", 200, "UPSTREAM_STREAM_BROKEN") == "error"
    assert outcome("error", 200, "UPSTREAM_STREAM_BROKEN") == "error"
    assert outcome("error", 502, "UPSTREAM_ERROR") == "error"
    assert outcome("error", 504, "UPSTREAM_TIMEOUT") == "error"
    assert outcome("error", None, None) == "error"
    assert outcome("error", 402, "INSUFFICIENT_CREDITS") == "client"
    assert outcome("error", 400, "UPSTREAM_REJECTED") == "client"


async def test_success_rates_and_medians_by_model_and_provider(runtime: Runtime) -> None:
    sessions = runtime.sessions
    user = await a_user(sessions)
    # deepseek on the simulator: 40 successes at 10..400 ms, 2 upstream errors, 3 client errors.
    for i in range(40):
        await usage(sessions, user, at=T0 + timedelta(minutes=i), latency_ms=10 * (i + 1))
    for _ in range(2):
        await usage(sessions, user, at=T0, status="error", http_status=502, error_code="UPSTREAM_ERROR")
    for _ in range(3):
        await usage(
            sessions,
            user,
            at=T0,
            status="error",
            http_status=402,
            error_code="INSUFFICIENT_CREDITS",
            provider=None,
        )
    # gpt-4o on openai in the next hour: 8 successes at 1.2 s, 2 broken streams.
    for _ in range(8):
        await usage(
            sessions, user, at=T0 + timedelta(hours=1), model="gpt-4o", provider="openai", latency_ms=1200
        )
    for _ in range(2):
        await usage(sessions, user, at=T0 + timedelta(hours=1, minutes=5), model="gpt-4o", provider="openai",
                    status="partial", error_code="UPSTREAM_STREAM_BROKEN")  # fmt: skip

    assert await aggregate_pending(sessions, settle_seconds=0) == 55
    models = await model_health(sessions, since=T0)
    deepseek, gpt = models["deepseek"], models["gpt-4o"]
    assert (deepseek.requests, deepseek.errors, deepseek.client_errors) == (45, 2, 3)
    assert deepseek.attempts == 42 and deepseek.success_rate == 40 / 42
    assert (gpt.requests, gpt.errors, gpt.success_rate) == (10, 2, 0.8)
    # The true median of 10..400 ms is 205 ms: the estimate lies in its bucket.
    assert deepseek.median_latency_ms is not None and 200 <= deepseek.median_latency_ms < 280
    assert gpt.median_latency_ms is not None and 1100 <= gpt.median_latency_ms < 1500

    providers = await provider_health(sessions, since=T0)
    assert set(providers) == {"simulator", "openai"}  # refused requests belong to no provider
    assert providers["simulator"].requests == 42 and providers["simulator"].success_rate == 40 / 42
    assert providers["openai"].success_rate == 0.8

    # Windows are half-open and by hour: the second hour alone holds only gpt-4o.
    later = await model_health(sessions, since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2))
    assert set(later) == {"gpt-4o"}
    async with sessions() as session:
        hours = (await session.execute(select(UsageHealthHourly.hour).distinct())).scalars().all()
    assert sorted(hours) == [T0, T0 + timedelta(hours=1)]
    assert await last_rollup(sessions) is not None


async def test_rows_are_counted_once_however_often_it_runs(runtime: Runtime) -> None:
    sessions = runtime.sessions
    user = await a_user(sessions)
    for _ in range(5):
        await usage(sessions, user, at=T0)
    assert await aggregate_pending(sessions, settle_seconds=0) == 5
    assert await aggregate_pending(sessions, settle_seconds=0) == 0
    for _ in range(3):
        await usage(sessions, user, at=T0 + timedelta(minutes=1))
    assert await aggregate_pending(sessions, settle_seconds=0) == 3
    assert (await model_health(sessions, since=T0))["deepseek"].requests == 8


async def test_two_replicas_aggregating_at_once_count_each_row_once(runtime: Runtime) -> None:
    sessions = runtime.sessions
    user = await a_user(sessions)
    for i in range(120):
        await usage(sessions, user, at=T0 + timedelta(minutes=i % 90), latency_ms=50 + i)
    other = Runtime.create(runtime.settings)  # a second replica: its own engine and connections
    try:
        counted = await asyncio.gather(
            *(
                aggregate_pending(s, settle_seconds=0, batch=7)
                for s in (sessions, other.sessions, sessions, other.sessions)
            )
        )
    finally:
        await other.close()
    assert sum(counted) == 120
    stats = await model_health(sessions, since=T0)
    assert stats["deepseek"].requests == 120
    assert sum(stats["deepseek"].latency.values()) == 120
    async with sessions() as session:
        assert await session.scalar(select(func.sum(UsageHealthHourly.requests))) == 120


async def test_a_young_row_holds_back_the_rows_after_it(runtime: Runtime) -> None:
    sessions = runtime.sessions
    user = await a_user(sessions)
    now = datetime.now(UTC)
    await usage(sessions, user, at=now - timedelta(minutes=5))
    await usage(sessions, user, at=now - timedelta(seconds=10))  # younger than a minute
    await usage(sessions, user, at=now - timedelta(minutes=5))  # older, but inserted after it
    first = await aggregate_once(sessions, now=now, settle_seconds=60)
    assert first.rows == 1  # stopped at the young row: ids past it may still be committing
    assert (await aggregate_once(sessions, now=now, settle_seconds=60)).rows == 0
    later = await aggregate_once(sessions, now=now + timedelta(minutes=2), settle_seconds=60)
    assert later.rows == 2 and later.last_id > first.last_id
