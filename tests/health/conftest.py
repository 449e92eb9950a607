from __future__ import annotations

import secrets
from datetime import datetime

from modelsnest.auth.users import create_user
from modelsnest.billing.types import UsageRecord
from modelsnest.billing.usage import write_usage
from modelsnest.db.engine import SessionFactory


async def a_user(sessions: SessionFactory) -> int:
    return (await create_user(sessions, email=f"h{secrets.token_hex(5)}@example.com")).id


async def usage(
    sessions: SessionFactory,
    user_id: int,
    *,
    at: datetime,
    model: str = "deepseek",
    provider: str | None = "simulator",
    status: str = "success",
    http_status: int | None = 200,
    latency_ms: int | None = 100,
    error_code: str | None = None,
    cost_nanos: int = 0,
) -> None:
    """One request's usage row, written by billing's own write path at time ``at``."""
    record = UsageRecord(
        request_id=f"req_{secrets.token_hex(12)}",
        user_id=user_id,
        api_token_id=None,
        endpoint="chat",
        model_slug=model,
        provider_name=provider,
        status=status,
        http_status=http_status,
        latency_ms=latency_ms,
        error_code=error_code,
    )
    async with sessions.begin() as session:
        await write_usage(session, record, cost_nanos=cost_nanos, now=at)
