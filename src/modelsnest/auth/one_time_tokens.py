"""Single-use, expiring tokens mailed to a user: password resets and e-mail verification.

The token (32 random bytes) travels only in the link; the database keeps its SHA-256. Using
one is a conditional UPDATE (unused and unexpired → used), so a link works exactly once even
when it is opened twice at the same moment on two replicas.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from modelsnest.crypto import token_hash
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import EmailVerificationToken, PasswordResetToken

RESET_TTL = timedelta(hours=1)
VERIFY_TTL = timedelta(days=2)
MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True, slots=True)
class VerifiedEmail:
    user_id: int
    email: str


def _new_token() -> str:
    return secrets.token_urlsafe(32)


async def issue_reset_token(sessions: SessionFactory, user_id: int, ttl: timedelta = RESET_TTL) -> str:
    """A new reset link's token; earlier unused ones of the user stop working (only the latest
    mail counts)."""
    token = _new_token()
    now = utcnow()
    async with sessions() as session, session.begin():
        await session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
            .values(used_at=now)
        )
        session.add(
            PasswordResetToken(
                token_hash=token_hash(token), user_id=user_id, created_at=now, expires_at=now + ttl
            )
        )
    return token


async def reset_token_user(sessions: SessionFactory, token: str) -> int | None:
    """The user a still-usable reset token belongs to (without using it), else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    async with sessions() as session:
        return await session.scalar(
            select(PasswordResetToken.user_id).where(
                PasswordResetToken.token_hash == token_hash(token),
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.expires_at > utcnow(),
            )
        )


async def use_reset_token(sessions: SessionFactory, token: str) -> int | None:
    """Spend a reset token: its user id the first time, None when unknown, used or expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = utcnow()
    async with sessions() as session, session.begin():
        digest = token_hash(token)
        result = await session.execute(
            update(PasswordResetToken)
            .where(
                PasswordResetToken.token_hash == digest,
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.expires_at > now,
            )
            .values(used_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await session.scalar(
            select(PasswordResetToken.user_id).where(PasswordResetToken.token_hash == digest)
        )


async def issue_verification_token(
    sessions: SessionFactory, user_id: int, email: str, ttl: timedelta = VERIFY_TTL
) -> str:
    token = _new_token()
    now = utcnow()
    async with sessions() as session, session.begin():
        session.add(
            EmailVerificationToken(
                token_hash=token_hash(token),
                user_id=user_id,
                email=email,
                created_at=now,
                expires_at=now + ttl,
            )
        )
    return token


async def use_verification_token(sessions: SessionFactory, token: str) -> VerifiedEmail | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    now = utcnow()
    digest = token_hash(token)
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(EmailVerificationToken)
            .where(
                EmailVerificationToken.token_hash == digest,
                EmailVerificationToken.used_at.is_(None),
                EmailVerificationToken.expires_at > now,
            )
            .values(used_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        row = (
            await session.execute(
                select(EmailVerificationToken.user_id, EmailVerificationToken.email).where(
                    EmailVerificationToken.token_hash == digest
                )
            )
        ).one()
        return VerifiedEmail(user_id=row[0], email=row[1])
