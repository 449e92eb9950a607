from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from modelsnest.runtime import Runtime

MakeUser = Callable[[str], Awaitable[int]]


@pytest.fixture
def make_user(runtime: Runtime) -> MakeUser:
    async def make(email: str = "media@example.com") -> int:
        now = datetime.now(UTC).replace(tzinfo=None) if runtime.settings.is_sqlite else datetime.now(UTC)
        async with runtime.sessions() as session, session.begin():
            await session.execute(
                text(
                    "INSERT INTO users (email, role, status, created_at, updated_at) "
                    "VALUES (:email, 'user', 'active', :now, :now)"
                ),
                {"email": email, "now": now},
            )
            result = await session.execute(
                text("SELECT id FROM users WHERE email = :email"), {"email": email}
            )
            return int(result.scalar_one())

    return make
