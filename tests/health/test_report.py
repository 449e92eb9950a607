"""The status page's report: providers with their circuit state and 30 daily bars, models
with traffic, incidents, the overall state; and the board that caches it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from modelsnest.db.models.providers import Provider
from modelsnest.health import StatusBoard, aggregate_pending, status_report
from modelsnest.health.queries import HealthStats
from modelsnest.health.report import UptimeDay
from modelsnest.runtime import Runtime
from tests.health.conftest import a_user, usage
from tests.health.test_incidents import _provider


def test_days_read_as_levels() -> None:
    day = datetime(2026, 11, 1, tzinfo=UTC).date()
    assert UptimeDay(day, None).level == "none"
    assert UptimeDay(day, HealthStats(requests=1000, errors=1)).level == "ok"
    assert UptimeDay(day, HealthStats(requests=1000, errors=20)).level == "degraded"
    assert UptimeDay(day, HealthStats(requests=1000, errors=100)).level == "outage"
    assert UptimeDay(day, HealthStats(requests=10, circuit_opens=1)).level == "degraded"
    assert UptimeDay(day, HealthStats(requests=5, client_errors=5)).level == "none"


async def test_report_shows_state_bars_models_and_incidents(runtime: Runtime) -> None:
    sessions = runtime.sessions
    user = await a_user(sessions)
    now = datetime.now(UTC)
    provider_id = await _provider(runtime, "openai")
    await _provider(runtime, "spare")
    for _ in range(9):
        await usage(sessions, user, at=now - timedelta(days=3), model="gpt-4o", provider="openai")
    recent = max(now - timedelta(minutes=1), now.replace(hour=0, minute=0, second=0, microsecond=0))
    for _ in range(6):
        await usage(sessions, user, at=recent, model="gpt-4o", provider="openai",
                    status="error", http_status=502)  # fmt: skip
    await aggregate_pending(sessions, settle_seconds=0)
    async with sessions.begin() as session:
        await session.execute(
            update(Provider)
            .where(Provider.id == provider_id)
            .values(circuit_open_until=now + timedelta(seconds=30))
        )
    report = await status_report(sessions, {"gpt-4o": "GPT-4o", "deepseek": "DeepSeek V3"}, now=now)
    by_name = {p.name: p for p in report.providers}
    assert by_name["openai"].state == "down" and by_name["openai"].circuit_open_until is not None
    assert by_name["spare"].state == "operational" and by_name["spare"].last_month.attempts == 0
    assert report.overall == "partial_outage"
    openai = by_name["openai"]
    assert len(openai.days) == 30 and openai.days[-1].day == now.date()
    assert (
        openai.days[-1].level == "outage" and openai.days[-4].level == "ok" and openai.days[0].level == "none"
    )
    assert openai.last_day.requests == 6 and openai.last_month.requests == 15
    assert [m.name for m in report.models] == ["gpt-4o"] and report.quiet_models == 1
    assert [i.provider for i in report.incidents] == ["openai"]


async def test_board_caches_the_report_for_its_ttl(runtime: Runtime) -> None:
    clock = [0.0]
    board = StatusBoard(runtime.sessions, ttl_seconds=30, clock=lambda: clock[0])
    first = await board.report({"deepseek": "DeepSeek V3"})
    assert await board.report({"deepseek": "DeepSeek V3"}) is first
    clock[0] = 31
    assert await board.report({"deepseek": "DeepSeek V3"}) is not first
