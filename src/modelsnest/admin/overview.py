"""The overview's figures, read from the rollups (``usage_daily``, the health rollups) and the
payments table: never a scan of the usage log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from modelsnest.billing.margins import MarginRow, margin_totals, margins
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import ApiToken, Payment, UsageDaily, User
from modelsnest.health.queries import HealthStats, provider_health
from modelsnest.payments.types import CREDITED_STATUSES

WINDOWS = (("today", "Today", 0), ("7d", "Last 7 days", 6), ("30d", "Last 30 days", 29))


@dataclass(frozen=True, slots=True)
class Window:
    key: str
    label: str
    requests: int
    tokens: int
    revenue_nanos: int  # payments credited in the window
    margin: MarginRow  # charged (spend), upstream cost, margin


@dataclass(frozen=True, slots=True)
class ProviderErrors:
    name: str
    stats: HealthStats

    @property
    def error_percent(self) -> str:
        rate = self.stats.success_rate
        return "—" if rate is None else f"{(1 - rate) * 100:.1f}%"


@dataclass(frozen=True, slots=True)
class Overview:
    users: int
    active_users: int
    active_keys: int
    windows: list[Window]
    providers: list[ProviderErrors]
    top_models: list[MarginRow]
    top_users: list[tuple[MarginRow, str]]


async def overview(sessions: SessionFactory, now: datetime | None = None) -> Overview:
    now = now or datetime.now(UTC)
    today = now.date()
    async with sessions() as session:
        users = int(await session.scalar(select(func.count()).select_from(User)) or 0)
        active_users = int(
            await session.scalar(select(func.count()).select_from(User).where(User.status == "active")) or 0
        )
        active_keys = int(
            await session.scalar(
                select(func.count())
                .select_from(ApiToken)
                .where(
                    ApiToken.revoked_at.is_(None),
                    (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
                )
            )
            or 0
        )
        usage = {}
        revenue = {}
        for key, _, days in WINDOWS:
            start = today - timedelta(days=days)
            row = (
                await session.execute(
                    select(
                        func.coalesce(func.sum(UsageDaily.requests), 0),
                        func.coalesce(func.sum(UsageDaily.prompt_tokens + UsageDaily.completion_tokens), 0),
                    ).where(UsageDaily.day >= start, UsageDaily.day <= today)
                )
            ).one()
            usage[key] = (int(row[0]), int(row[1]))
            since = datetime(start.year, start.month, start.day, tzinfo=UTC)
            revenue[key] = int(
                await session.scalar(
                    select(func.coalesce(func.sum(Payment.amount_nanos), 0)).where(
                        Payment.status.in_(sorted(CREDITED_STATUSES)), Payment.completed_at >= since
                    )
                )
                or 0
            )
    windows = []
    for key, label, days in WINDOWS:
        totals = await margin_totals(sessions, start=today - timedelta(days=days), end=today)
        windows.append(Window(key, label, usage[key][0], usage[key][1], revenue[key], totals))
    start = today - timedelta(days=29)
    top_models = (await margins(sessions, start=start, end=today, by="model"))[:8]
    by_user = (await margins(sessions, start=start, end=today, by="user"))[:8]
    emails: dict[int, str] = {}
    if by_user:
        async with sessions() as session:
            ids = [int(row.key) for row in by_user]
            result = await session.execute(select(User.id, User.email).where(User.id.in_(ids)))
            emails = {int(uid): str(email) for uid, email in result.all()}
    health = await provider_health(sessions, since=now - timedelta(days=1))
    return Overview(
        users=users,
        active_users=active_users,
        active_keys=active_keys,
        windows=windows,
        providers=[ProviderErrors(name, stats) for name, stats in sorted(health.items())],
        top_models=top_models,
        top_users=[(row, emails.get(int(row.key), f"user {row.key}")) for row in by_user],
    )
