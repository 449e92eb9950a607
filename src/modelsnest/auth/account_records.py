"""Row-level changes to an account that the web flows make (``accounts.Accounts`` calls these)."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select, update

from modelsnest.auth.passwords import hash_password
from modelsnest.auth.users import UserView
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import (
    ApiToken,
    EmailVerificationToken,
    Notification,
    PasswordResetToken,
    RecoveryCode,
    User,
    UserTwoFactor,
)
from modelsnest.db.models import Session as SessionRow
from modelsnest.errors import NotFound


def deleted_email(user_id: int) -> str:
    """The address a deleted account keeps: unique, undeliverable (RFC 2606 ``.invalid``)."""
    return f"deleted-user-{user_id}@deleted.invalid"


async def fingerprint_taken(sessions: SessionFactory, fingerprint: str) -> bool:
    async with sessions() as session:
        found = await session.scalar(select(User.id).where(User.email_fingerprint == fingerprint).limit(1))
    return found is not None


async def password_hash_of(sessions: SessionFactory, user_id: int) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(User.password_hash).where(User.id == user_id))


async def set_password(sessions: SessionFactory, user_id: int, password: str) -> None:
    new_hash = await asyncio.to_thread(hash_password, password)
    async with sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.id == user_id).values(password_hash=new_hash, updated_at=utcnow())
        )


async def set_display_name(sessions: SessionFactory, user_id: int, name: str | None) -> UserView:
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        user.display_name = name
        return UserView.of(user)


async def mark_email_verified(sessions: SessionFactory, user_id: int, email: str) -> UserView | None:
    """Verified only if the account still has the address the link was sent to."""
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id, with_for_update=True)
        if user is None or user.email.lower() != email.lower():
            return None
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()
        return UserView.of(user)


async def anonymise_user(sessions: SessionFactory, user_id: int) -> None:
    """Delete the person, keep the books: the ledger, usage rows and the account row (with an
    undeliverable address, no password, disabled) stay; keys are revoked (kept for the usage
    rows that name them); sessions, second factor, tokens and notifications are removed. The
    e-mail fingerprint stays so a new sign-up of the address earns no second bonus."""
    now = utcnow()
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        user.email = deleted_email(user_id)
        user.display_name = None
        user.password_hash = None
        user.email_verified_at = None
        user.status = "disabled"
        await session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        for table in (
            SessionRow,
            UserTwoFactor,
            RecoveryCode,
            PasswordResetToken,
            EmailVerificationToken,
            Notification,
        ):
            await session.execute(delete(table).where(table.user_id == user_id))
