from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from modelsnest.auth.api_keys import create_key, revoke_key
from modelsnest.auth.key_verifier import ApiKeyVerifier
from modelsnest.db.base import utcnow
from modelsnest.db.models import ApiToken, User
from modelsnest.errors import AuthError
from modelsnest.runtime import Runtime
from tests.auth.conftest import MakeUser


class CountingSessions:
    """The runtime's session factory, counting how many sessions the verifier opens."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.opened = 0

    def __call__(self) -> Any:
        self.opened += 1
        return self.runtime.sessions()


def _verifier(sessions: Any, ttl: float = 60.0, **kwargs: Any) -> ApiKeyVerifier:
    return ApiKeyVerifier(sessions, ttl_seconds=ttl, **kwargs)


async def _code(verifier: ApiKeyVerifier, header: str | None) -> str:
    with pytest.raises(AuthError) as caught:
        await verifier.verify(header)
    assert caught.value.status == 401
    return caught.value.code


async def test_verify_returns_the_principal(runtime: Runtime, make_user: MakeUser) -> None:
    user_id = await make_user(role="admin")
    view, token = await create_key(
        runtime.sessions, user_id=user_id, name="ci", rpm_limit=5, allowed_models=["deepseek"]
    )
    verifier = _verifier(runtime.sessions)
    principal = await verifier.verify(f"Bearer {token}")
    assert (principal.key_id, principal.user_id, principal.user_role, principal.user_status) == (
        view.id,
        user_id,
        "admin",
        "active",
    )
    assert (principal.name, principal.prefix, principal.revoked, principal.rpm_limit) == (
        "ci",
        view.prefix,
        False,
        5,
    )
    assert principal.allows_model("deepseek") and not principal.allows_model("gpt-4o")
    assert await verifier.verify(token) == principal  # a bare token works too
    assert await verifier.verify(f"bearer   {token}  ") == principal
    await verifier.close()


@pytest.mark.parametrize(
    "header", [None, "", "   ", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"]
)
async def test_missing_or_non_bearer_header(runtime: Runtime, header: str | None) -> None:
    sessions = CountingSessions(runtime)
    assert await _code(_verifier(sessions), header) == "MISSING_AUTH_HEADER"
    assert sessions.opened == 0


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nope",
        "Bearer sk-1234567890",
        "Bearer ptr_short",
        "Bearer ptr_" + "!" * 43,
        "Bearer " + "x" * 5000,
    ],
)
async def test_garbled_tokens_are_refused_without_a_database_read(runtime: Runtime, header: str) -> None:
    sessions = CountingSessions(runtime)
    assert await _code(_verifier(sessions), header) == "INVALID_TOKEN"
    assert sessions.opened == 0


async def test_unknown_tokens_are_refused_and_the_miss_is_cached(runtime: Runtime) -> None:
    sessions = CountingSessions(runtime)
    verifier = _verifier(sessions)
    unknown = "Bearer ptr_" + "A" * 43
    for _ in range(3):
        assert await _code(verifier, unknown) == "INVALID_TOKEN"
    assert sessions.opened == 1


async def test_one_read_serves_concurrent_and_later_requests(runtime: Runtime, make_user: MakeUser) -> None:
    _, token = await create_key(runtime.sessions, user_id=await make_user())
    sessions = CountingSessions(runtime)
    verifier = _verifier(sessions, touch_interval_seconds=3600, flush_delay_seconds=3600)
    results = await asyncio.gather(*(verifier.verify(f"Bearer {token}") for _ in range(50)))
    assert len({r.key_id for r in results}) == 1
    await verifier.verify(f"Bearer {token}")
    assert sessions.opened == 1
    task = verifier._flush_task
    await verifier.close()
    assert task is not None and task.cancelled()


async def test_revocation_takes_effect_after_the_ttl(runtime: Runtime, make_user: MakeUser) -> None:
    view, token = await create_key(runtime.sessions, user_id=await make_user())
    verifier = _verifier(runtime.sessions, ttl=0.3)
    await verifier.verify(f"Bearer {token}")
    await revoke_key(runtime.sessions, view.id)
    await verifier.verify(f"Bearer {token}")  # still cached: the documented few-seconds window
    await asyncio.sleep(0.35)
    assert await _code(verifier, f"Bearer {token}") == "INVALID_TOKEN"
    await verifier.close()


async def test_invalidate_drops_the_cache_at_once(runtime: Runtime, make_user: MakeUser) -> None:
    view, token = await create_key(runtime.sessions, user_id=await make_user())
    verifier = _verifier(runtime.sessions)
    await verifier.verify(token)
    await revoke_key(runtime.sessions, view.id)
    verifier.invalidate()
    assert await _code(verifier, token) == "INVALID_TOKEN"
    await verifier.close()


async def test_expired_keys_are_refused_even_from_the_cache(runtime: Runtime, make_user: MakeUser) -> None:
    user_id = await make_user()
    old, old_token = await create_key(runtime.sessions, user_id=user_id)
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(ApiToken).where(ApiToken.id == old.id).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    verifier = _verifier(runtime.sessions)
    assert await _code(verifier, old_token) == "INVALID_TOKEN"

    _, soon_token = await create_key(
        runtime.sessions, user_id=user_id, expires_at=utcnow() + timedelta(seconds=0.5)
    )
    await verifier.verify(soon_token)
    await asyncio.sleep(0.6)
    assert await _code(verifier, soon_token) == "INVALID_TOKEN"
    await verifier.close()


async def test_disabled_users_are_refused(runtime: Runtime, make_user: MakeUser) -> None:
    user_id = await make_user()
    _, token = await create_key(runtime.sessions, user_id=user_id)
    verifier = _verifier(runtime.sessions, ttl=0.2)
    await verifier.verify(token)
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == user_id).values(status="disabled"))
    await asyncio.sleep(0.25)
    assert await _code(verifier, token) == "INVALID_TOKEN"
    await verifier.close()


async def test_last_used_is_written_in_the_background_at_most_once_per_interval(
    runtime: Runtime, make_user: MakeUser
) -> None:
    view, token = await create_key(runtime.sessions, user_id=await make_user())
    verifier = _verifier(runtime.sessions, ttl=0.0, flush_delay_seconds=0.05)

    async def last_used() -> Any:
        async with runtime.sessions() as session:
            return await session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == view.id))

    before = utcnow()
    await verifier.verify(token)
    assert await last_used() is None  # not on the request's time
    await asyncio.sleep(0.2)
    first = await last_used()
    assert first is not None and first >= before - timedelta(seconds=1)
    await verifier.verify(token)
    await verifier.verify(token)
    await asyncio.sleep(0.2)
    assert await last_used() == first  # within the minute: no second write
    await verifier.close()


async def test_cache_stays_bounded(runtime: Runtime) -> None:
    verifier = _verifier(runtime.sessions, max_entries=10)
    for i in range(25):
        await _code(verifier, f"ptr_{i:043d}")
    assert len(verifier._cache) <= 10
