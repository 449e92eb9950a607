"""Provider failures a failover hid are counted for that provider; incidents are derived from
the hourly counts: runs of bad hours, merged, ongoing while the current hour is bad."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from modelsnest.catalog import providers as catalog_providers
from modelsnest.crypto import SecretBox
from modelsnest.health import aggregate_pending, daily_health, hourly_health, incidents, provider_health
from modelsnest.health.failures import record_failure
from modelsnest.runtime import Runtime
from tests.health.conftest import a_user, usage

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


async def _provider(runtime: Runtime, name: str) -> int:
    view = await catalog_providers.add_provider(
        runtime.sessions,
        SecretBox("k" * 40),
        name=name,
        kind="openai",
        base_url="http://127.0.0.1:9",
        api_key="sk-x",
    )
    return view.id


async def test_failed_over_attempts_count_against_the_provider_that_failed(runtime: Runtime) -> None:
    sessions = runtime.sessions
    user = await a_user(sessions)
    flaky = await _provider(runtime, "flaky")
    # 10 requests failed over from "flaky" to the simulator: the usage rows name the simulator.
    for _ in range(10):
        await record_failure(sessions, flaky, at=T0 + timedelta(minutes=1))
        await usage(sessions, user, at=T0 + timedelta(minutes=1), provider="simulator")
    await record_failure(sessions, flaky, at=T0 + timedelta(minutes=2), opened_circuit=True)
    await aggregate_pending(sessions, settle_seconds=0)
    stats = await provider_health(sessions, since=T0)
    assert stats["flaky"].attempts == 11 and stats["flaky"].failures == 11
    assert stats["flaky"].success_rate == 0.0 and stats["flaky"].circuit_opens == 1
    assert stats["simulator"].success_rate == 1.0
    series = await hourly_health(sessions, since=T0, provider="flaky")
    assert [(h.hour, h.stats.failed_attempts) for h in series] == [(T0, 11)]
    days = await daily_health(sessions, "provider", since=T0.date())
    assert days["flaky"][T0.date()].failures == 11


async def test_incidents_are_runs_of_bad_hours(runtime: Runtime) -> None:
    sessions = runtime.sessions
    user = await a_user(sessions)
    await _provider(runtime, "openai")
    hour = timedelta(hours=1)
    # Hours 0-1: 20% errors (bad). Hour 2: clean. Hour 3: one error in two requests (too few
    # attempts to count). Hour 5: clean. Hour 6 (now): 60% errors, ongoing.
    plan = {0: (8, 2), 1: (8, 2), 2: (10, 0), 3: (1, 1), 5: (10, 0), 6: (4, 6)}
    for offset, (ok, bad) in plan.items():
        for _ in range(ok):
            await usage(sessions, user, at=T0 + offset * hour, provider="openai")
        for _ in range(bad):
            await usage(
                sessions, user, at=T0 + offset * hour, provider="openai", status="error", http_status=502
            )
    await aggregate_pending(sessions, settle_seconds=0)
    found = await incidents(sessions, since=T0 - hour, now=T0 + 6 * hour + timedelta(minutes=20))
    assert [(i.provider, i.started, i.ended) for i in found] == [
        ("openai", T0 + 6 * hour, None),
        ("openai", T0, T0 + 2 * hour),
    ]
    ongoing, past = found
    assert ongoing.ongoing and ongoing.severity == "outage" and ongoing.peak_error_rate == 0.6
    assert not past.ongoing and past.severity == "degraded"
    assert (past.attempts, past.failures) == (20, 4)
    assert past.duration(T0) == 2 * hour


async def test_a_circuit_opening_is_an_incident_even_with_few_attempts(runtime: Runtime) -> None:
    sessions = runtime.sessions
    provider = await _provider(runtime, "anthropic-1")
    await record_failure(sessions, provider, at=T0, opened_circuit=True)
    found = await incidents(sessions, since=T0, now=T0 + timedelta(days=1))
    assert len(found) == 1 and found[0].circuit_opens == 1 and found[0].ended == T0 + timedelta(hours=1)
