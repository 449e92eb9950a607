from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from modelsnest.db.models import User
from modelsnest.runtime import Runtime

MakeUser = Callable[..., Awaitable[int]]


@pytest.fixture
def make_user(runtime: Runtime) -> MakeUser:
    """Insert a bare user row (no credit account): enough for key tests."""

    async def make(email: str = "dev@example.com", *, status: str = "active", role: str = "user") -> int:
        async with runtime.sessions() as session, session.begin():
            user = User(email=email, role=role, status=status)
            session.add(user)
            await session.flush()
            return user.id

    return make
