"""Fixtures for the ledger tests. Users and API keys go straight into the database with a
small SQL insert: money can be tested without the user service."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import insert

from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import ApiToken, User
from modelsnest.runtime import Runtime
from tests.billing.helpers import MakeApiToken, MakeUser


async def insert_user(sessions: SessionFactory) -> int:
    now = utcnow()
    statement = (
        insert(User)
        .values(email=f"{uuid.uuid4().hex[:12]}@example.com", created_at=now, updated_at=now)
        .returning(User.id)
    )
    async with sessions.begin() as session:
        return (await session.execute(statement)).scalar_one()


async def insert_api_token(sessions: SessionFactory, user_id: int) -> int:
    statement = (
        insert(ApiToken)
        .values(user_id=user_id, name="test key", token_hash=uuid.uuid4().hex * 2, prefix="ptr_test")
        .returning(ApiToken.id)
    )
    async with sessions.begin() as session:
        return (await session.execute(statement)).scalar_one()


@pytest.fixture
def make_user() -> MakeUser:
    return insert_user


@pytest.fixture
def make_api_token() -> MakeApiToken:
    return insert_api_token


@pytest.fixture
def sessions(runtime: Runtime) -> SessionFactory:
    return runtime.sessions


@pytest.fixture
async def user(sessions: SessionFactory) -> int:
    return await insert_user(sessions)


@pytest.fixture
async def api_token(sessions: SessionFactory, user: int) -> int:
    return await insert_api_token(sessions, user)
