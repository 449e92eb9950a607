"""What ``GET /api/v1/key`` reports about the calling key: its name, prefix and limits, and
its spend (today, this week, this month, in all) read from the usage rows it was billed by,
so the numbers equal the ledger's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import ApiToken, UsageLog
from modelsnest.errors import AuthError


@dataclass(frozen=True)
class KeyStatus:
    key_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    spend_limit_nanos: int | None
    rpm_limit: int | None
    tpm_limit: int | None
    allowed_models: list[str] | None
    spent_total_nanos: int
    spent_today_nanos: int
    spent_week_nanos: int
    spent_month_nanos: int

    @property
    def remaining_nanos(self) -> int | None:
        if self.spend_limit_nanos is None:
            return None
        return max(self.spend_limit_nanos - self.spent_total_nanos, 0)


async def key_status(sessions: SessionFactory, key_id: int, *, now: datetime | None = None) -> KeyStatus:
    now = now or datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    async with sessions() as session:
        token = await session.get(ApiToken, key_id)
        if token is None:
            raise AuthError("this API key no longer exists", code="INVALID_TOKEN")
        since = min(week, month)
        rows = (
            await session.execute(
                select(UsageLog.created_at, UsageLog.cost_nanos).where(
                    UsageLog.api_token_id == key_id, UsageLog.created_at >= since, UsageLog.cost_nanos > 0
                )
            )
        ).all()
        total = await session.scalar(
            select(func.coalesce(func.sum(UsageLog.cost_nanos), 0)).where(UsageLog.api_token_id == key_id)
        )

    def spent(start: datetime) -> int:
        return sum(int(cost) for created, cost in rows if created >= start)

    return KeyStatus(
        key_id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        spend_limit_nanos=token.spend_limit_nanos,
        rpm_limit=token.rpm_limit,
        tpm_limit=token.tpm_limit,
        allowed_models=[str(m) for m in token.allowed_models] if token.allowed_models is not None else None,
        spent_total_nanos=int(total or 0),
        spent_today_nanos=spent(today),
        spent_week_nanos=spent(week),
        spent_month_nanos=spent(month),
    )
