"""Dashboard sessions on both databases: only hashes stored, idle and absolute expiry,
revocation and disabled users take effect at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from modelsnest.auth import web_sessions
from modelsnest.auth.users import create_user, set_user_status
from modelsnest.crypto import token_hash
from modelsnest.db.base import utcnow
from modelsnest.db.models import Session
from modelsnest.runtime import Runtime

POLICY = web_sessions.SessionPolicy(idle=timedelta(hours=1), lifetime=timedelta(days=1))


async def _user(runtime: Runtime, email: str = "s@example.com") -> int:
    return (await create_user(runtime.sessions, email=email)).id


async def test_a_session_is_found_by_its_cookie_and_stores_only_its_hash(runtime: Runtime) -> None:
    user_id = await _user(runtime)
    token = await web_sessions.start_session(
        runtime.sessions, user_id, POLICY, ip_address="192.0.2.1", user_agent="UA" * 200
    )
    found = await web_sessions.resolve_session(runtime.sessions, token, POLICY)
    assert found is not None and found.user_id == user_id and len(found.csrf_token) >= 32
    async with runtime.sessions() as session:
        row = await session.scalar(select(Session))
    assert (
        row is not None
        and row.token_hash == token_hash(token)
        and token not in (row.token_hash, row.csrf_token)
    )
    assert row.user_agent is not None and len(row.user_agent) == 255
    assert await web_sessions.resolve_session(runtime.sessions, token + "x", POLICY) is None
    assert await web_sessions.resolve_session(runtime.sessions, "", POLICY) is None


async def test_idle_and_absolute_expiry(runtime: Runtime) -> None:
    user_id = await _user(runtime)
    idle = await web_sessions.start_session(runtime.sessions, user_id, POLICY)
    old = await web_sessions.start_session(runtime.sessions, user_id, POLICY)
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(Session)
            .where(Session.token_hash == token_hash(idle))
            .values(last_seen_at=utcnow() - timedelta(hours=2))
        )
        await session.execute(
            update(Session)
            .where(Session.token_hash == token_hash(old))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await web_sessions.resolve_session(runtime.sessions, idle, POLICY) is None
    assert await web_sessions.resolve_session(runtime.sessions, old, POLICY) is None
    assert await web_sessions.list_sessions(runtime.sessions, user_id, POLICY) == []


async def test_use_keeps_a_session_alive(runtime: Runtime) -> None:
    user_id = await _user(runtime)
    token = await web_sessions.start_session(runtime.sessions, user_id, POLICY)
    async with runtime.sessions() as session, session.begin():
        await session.execute(update(Session).values(last_seen_at=utcnow() - timedelta(minutes=50)))
    assert await web_sessions.resolve_session(runtime.sessions, token, POLICY) is not None
    async with runtime.sessions() as session:
        seen = await session.scalar(select(Session.last_seen_at))
    assert seen is not None and utcnow() - seen < timedelta(minutes=1)


async def test_disabling_the_user_ends_their_sessions_at_once(runtime: Runtime) -> None:
    user_id = await _user(runtime)
    token = await web_sessions.start_session(runtime.sessions, user_id, POLICY)
    await set_user_status(runtime.sessions, user_id, "disabled")
    assert await web_sessions.resolve_session(runtime.sessions, token, POLICY) is None
    await set_user_status(runtime.sessions, user_id, "active")
    assert await web_sessions.resolve_session(runtime.sessions, token, POLICY) is not None


async def test_revoking_is_scoped_to_the_owner(runtime: Runtime) -> None:
    ann, bob = await _user(runtime, "ann@example.com"), await _user(runtime, "bob@example.com")
    ann_token = await web_sessions.start_session(runtime.sessions, ann, POLICY)
    keep = await web_sessions.start_session(runtime.sessions, ann, POLICY)
    found = await web_sessions.resolve_session(runtime.sessions, ann_token, POLICY)
    kept = await web_sessions.resolve_session(runtime.sessions, keep, POLICY)
    assert found is not None and kept is not None
    import pytest

    from modelsnest.errors import NotFound

    with pytest.raises(NotFound):
        await web_sessions.revoke_session(runtime.sessions, bob, found.session_id)
    assert await web_sessions.revoke_sessions(runtime.sessions, ann, keep=kept.session_id) == 1
    assert await web_sessions.resolve_session(runtime.sessions, ann_token, POLICY) is None
    assert await web_sessions.resolve_session(runtime.sessions, keep, POLICY) is not None
