"""Small helpers shared by the ledger tests (fixtures live in conftest.py)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from modelsnest.billing import UsageRecord
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import ApiToken, CreditHold, IdempotencyRecord, UsageDaily, UsageLog

MakeUser = Callable[[SessionFactory], Awaitable[int]]
MakeApiToken = Callable[[SessionFactory, int], Awaitable[int]]
USD = 10**9  # nanos in a dollar
_serial = itertools.count(1)


def new_key(prefix: str = "key") -> str:
    return f"{prefix}:{uuid.uuid4().hex}"


def usage_for(user_id: int, api_token_id: int | None = None, **fields: Any) -> UsageRecord:
    values: dict[str, Any] = {
        "request_id": f"req_{next(_serial)}_{uuid.uuid4().hex[:8]}",
        "user_id": user_id,
        "api_token_id": api_token_id,
        "endpoint": "chat.completions",
        "model_slug": "test-model",
        "prompt_tokens": 10,
        "completion_tokens": 20,
    }
    values.update(fields)
    return UsageRecord(**values)


async def usage_log(sessions: SessionFactory, request_id: str) -> UsageLog | None:
    async with sessions() as session:
        return await session.scalar(select(UsageLog).where(UsageLog.request_id == request_id))


async def daily_rows(sessions: SessionFactory, user_id: int) -> list[UsageDaily]:
    async with sessions() as session:
        return list(await session.scalars(select(UsageDaily).where(UsageDaily.user_id == user_id)))


async def token_spent(sessions: SessionFactory, token_id: int) -> int:
    async with sessions() as session:
        return (
            await session.execute(select(ApiToken.spent_nanos).where(ApiToken.id == token_id))
        ).scalar_one()


async def hold_row(sessions: SessionFactory, hold_id: str) -> CreditHold:
    async with sessions() as session:
        return (await session.execute(select(CreditHold).where(CreditHold.id == hold_id))).scalar_one()


async def claim_record(sessions: SessionFactory, api_token_id: int, key: str | None = None) -> int:
    """An ``idempotency_records`` row as the gateway claims it before the upstream call."""
    now = utcnow()
    statement = (
        insert(IdempotencyRecord)
        .values(
            api_token_id=api_token_id,
            key=key or uuid.uuid4().hex,
            request_hash="0" * 64,
            status="pending",
            created_at=now,
            expires_at=now + timedelta(hours=1),
        )
        .returning(IdempotencyRecord.id)
    )
    async with sessions.begin() as session:
        return (await session.execute(statement)).scalar_one()


async def idempotency_record(sessions: SessionFactory, record_id: int) -> IdempotencyRecord:
    async with sessions() as session:
        return (
            await session.execute(select(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
        ).scalar_one()
