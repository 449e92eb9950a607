"""Dashboard sessions: server-side rows in ``sessions``, named by a random cookie value of
which only the SHA-256 is stored.

A session is valid while it is not revoked, has seen a request within the idle timeout, is
younger than the absolute lifetime, and its user is active: every request checks all four
in one indexed read (no cache), so disabling a user or revoking a session takes effect at
once. ``last_seen_at`` is written at most once a minute per session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from modelsnest.auth.users import UserView
from modelsnest.crypto import token_hash
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import Session as SessionRow
from modelsnest.db.models import User
from modelsnest.errors import NotFound

TOUCH_INTERVAL = timedelta(minutes=1)
MAX_USER_AGENT = 255


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta
    lifetime: timedelta

    @classmethod
    def of_hours(cls, idle_hours: float, max_days: float) -> SessionPolicy:
        return cls(idle=timedelta(hours=idle_hours), lifetime=timedelta(days=max_days))


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The signed-in visitor of one request: their session and their account."""

    session_id: int
    csrf_token: str
    user: UserView
    created_at: datetime
    expires_at: datetime

    @property
    def user_id(self) -> int:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session as its owner sees it in the list of active sessions."""

    id: int
    ip_address: str | None
    user_agent: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


async def start_session(
    sessions: SessionFactory,
    user_id: int,
    policy: SessionPolicy,
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> str:
    """A new session for ``user_id``; returns the cookie value (shown once, stored hashed)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with sessions() as session, session.begin():
        session.add(
            SessionRow(
                token_hash=token_hash(token),
                user_id=user_id,
                csrf_token=secrets.token_urlsafe(32),
                ip_address=(ip_address or None) and ip_address[:64],
                user_agent=(user_agent or None) and user_agent[:MAX_USER_AGENT],
                created_at=now,
                last_seen_at=now,
                expires_at=now + policy.lifetime,
            )
        )
        await session.execute(update(User).where(User.id == user_id).values(last_login_at=now))
    return token


async def resolve_session(sessions: SessionFactory, token: str, policy: SessionPolicy) -> SignedIn | None:
    """The valid session named by this cookie value, else None."""
    if not token or len(token) > 128:
        return None
    now = utcnow()
    async with sessions() as session:
        row = (
            await session.execute(
                select(SessionRow, User)
                .join(User, User.id == SessionRow.user_id)
                .where(SessionRow.token_hash == token_hash(token))
            )
        ).one_or_none()
        if row is None:
            return None
        login, user = row
        if (
            login.revoked_at is not None
            or login.expires_at <= now
            or login.last_seen_at + policy.idle <= now
            or user.status != "active"
        ):
            return None
        signed_in = SignedIn(
            session_id=login.id,
            csrf_token=login.csrf_token,
            user=UserView.of(user),
            created_at=login.created_at,
            expires_at=min(login.expires_at, now + policy.idle),
        )
    if now - login.last_seen_at >= TOUCH_INTERVAL:
        async with sessions() as session, session.begin():
            await session.execute(
                update(SessionRow).where(SessionRow.id == login.id).values(last_seen_at=now)
            )
    return signed_in


async def list_sessions(sessions: SessionFactory, user_id: int, policy: SessionPolicy) -> list[SessionInfo]:
    """The user's valid sessions, most recently used first."""
    now = utcnow()
    async with sessions() as session:
        rows = await session.scalars(
            select(SessionRow)
            .where(
                SessionRow.user_id == user_id,
                SessionRow.revoked_at.is_(None),
                SessionRow.expires_at > now,
                SessionRow.last_seen_at > now - policy.idle,
            )
            .order_by(SessionRow.last_seen_at.desc(), SessionRow.id.desc())
        )
        return [
            SessionInfo(
                id=row.id,
                ip_address=row.ip_address,
                user_agent=row.user_agent,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                expires_at=row.expires_at,
            )
            for row in rows
        ]


async def revoke_session(sessions: SessionFactory, user_id: int, session_id: int) -> None:
    """End one of the user's sessions; NotFound for a session of someone else."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.user_id == user_id)
            .values(revoked_at=utcnow())
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFound("no such session")


async def revoke_sessions(sessions: SessionFactory, user_id: int, *, keep: int | None = None) -> int:
    """End every session of the user except ``keep``; returns how many were ended."""
    query = update(SessionRow).where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))
    if keep is not None:
        query = query.where(SessionRow.id != keep)
    async with sessions() as session, session.begin():
        result = await session.execute(query.values(revoked_at=utcnow()))
        return int(result.rowcount)  # type: ignore[attr-defined]
