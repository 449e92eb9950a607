"""Reset and verification tokens: hashed, expiring, single use even when raced."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from modelsnest.auth import one_time_tokens
from modelsnest.auth.users import create_user
from modelsnest.crypto import token_hash
from modelsnest.db.models import PasswordResetToken
from modelsnest.runtime import Runtime


async def test_a_reset_token_works_once_even_when_used_twice_at_the_same_moment(runtime: Runtime) -> None:
    user = await create_user(runtime.sessions, email="race@example.com")
    token = await one_time_tokens.issue_reset_token(runtime.sessions, user.id)
    async with runtime.sessions() as session:
        stored = await session.scalar(select(PasswordResetToken.token_hash))
    assert stored == token_hash(token)
    results = await asyncio.gather(
        *(one_time_tokens.use_reset_token(runtime.sessions, token) for _ in range(5))
    )
    assert sorted(results, key=lambda r: r is None) == [user.id, None, None, None, None]
    assert await one_time_tokens.reset_token_user(runtime.sessions, token) is None


async def test_an_expired_reset_token_is_refused(runtime: Runtime) -> None:
    user = await create_user(runtime.sessions, email="late@example.com")
    token = await one_time_tokens.issue_reset_token(runtime.sessions, user.id, ttl=timedelta(seconds=-1))
    assert await one_time_tokens.reset_token_user(runtime.sessions, token) is None
    assert await one_time_tokens.use_reset_token(runtime.sessions, token) is None


async def test_a_new_reset_token_voids_the_earlier_ones(runtime: Runtime) -> None:
    user = await create_user(runtime.sessions, email="new@example.com")
    first = await one_time_tokens.issue_reset_token(runtime.sessions, user.id)
    second = await one_time_tokens.issue_reset_token(runtime.sessions, user.id)
    assert await one_time_tokens.use_reset_token(runtime.sessions, first) is None
    assert await one_time_tokens.use_reset_token(runtime.sessions, second) == user.id


async def test_a_verification_token_names_the_address_it_was_sent_to(runtime: Runtime) -> None:
    user = await create_user(runtime.sessions, email="v@example.com")
    token = await one_time_tokens.issue_verification_token(runtime.sessions, user.id, "v@example.com")
    verified = await one_time_tokens.use_verification_token(runtime.sessions, token)
    assert verified is not None and verified.user_id == user.id and verified.email == "v@example.com"
    assert await one_time_tokens.use_verification_token(runtime.sessions, token) is None
    assert await one_time_tokens.use_verification_token(runtime.sessions, "x" * 500) is None
