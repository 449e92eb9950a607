"""Accounts: create (with an optional credit grant), look up, enable/disable, authenticate.

E-mail addresses are kept as typed (minus surrounding whitespace, domain lower-cased) and are
unique case-insensitively, which the ``lower(email)`` index enforces on both databases.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from modelsnest import billing
from modelsnest.auth.email_identity import email_fingerprint
from modelsnest.auth.passwords import hash_password, needs_rehash, validate_password, verify_password
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import User
from modelsnest.errors import Conflict, InvalidRequest, NotFound

log = logging.getLogger(__name__)

Role = Literal["user", "admin"]
Status = Literal["active", "disabled"]
ROLES: tuple[Role, ...] = ("user", "admin")
STATUSES: tuple[Status, ...] = ("active", "disabled")

MAX_EMAIL_LENGTH = 320
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@({_LABEL}(?:\.{_LABEL})+)")


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    email: str
    display_name: str | None
    role: Role
    status: Status
    has_password: bool
    created_at: datetime
    last_login_at: datetime | None
    email_verified_at: datetime | None = None

    @property
    def label(self) -> str:
        """How the account is named in the dashboard: its display name, else its e-mail."""
        return self.display_name or self.email

    @classmethod
    def of(cls, row: User) -> UserView:
        return cls(
            id=row.id,
            email=row.email,
            display_name=row.display_name,
            role=cast(Role, row.role),
            status=cast(Status, row.status),
            has_password=row.password_hash is not None,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
            email_verified_at=row.email_verified_at,
        )


def normalize_email(email: str) -> str:
    """``'  Ann@Example.COM '`` → ``'Ann@example.com'``; InvalidRequest when it is not an address."""
    cleaned = email.strip()
    match = _EMAIL_RE.fullmatch(cleaned)
    if match is None or len(cleaned) > MAX_EMAIL_LENGTH or len(match.group(1)) > 64:
        raise InvalidRequest(f"not a valid e-mail address: {email.strip()!r}", param="email")
    return f"{match.group(1)}@{match.group(2).lower()}"


def initial_grant_key(user_id: int) -> str:
    """The idempotency key of the credits granted when an account is created."""
    return f"grant:initial:user:{user_id}"


async def create_user(
    sessions: SessionFactory,
    *,
    email: str,
    password: str | None = None,
    role: str = "user",
    credits_nanos: int = 0,
    actor: str = "system",
) -> UserView:
    """Create an account and its credit account; grant ``credits_nanos`` once (a ledger row).

    Raises InvalidRequest (bad e-mail, short password, unknown role, negative credits) or
    Conflict (the e-mail exists, whatever its capitals) before anything is written."""
    address = normalize_email(email)
    if role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}: use one of {', '.join(ROLES)}", param="role")
    if isinstance(credits_nanos, bool) or credits_nanos < 0:
        raise InvalidRequest("initial credits must not be negative", param="credits")
    password_hash = None
    if password is not None:
        validate_password(password)
        password_hash = await asyncio.to_thread(hash_password, password)
    try:
        async with sessions() as session, session.begin():
            if await session.scalar(select(User.id).where(func.lower(User.email) == address.lower())):
                raise _duplicate(address)
            user = User(
                email=address,
                email_fingerprint=email_fingerprint(address),
                password_hash=password_hash,
                role=role,
                status="active",
            )
            session.add(user)
            await session.flush()
            await billing.ensure_account(session, user.id)
            view = UserView.of(user)
    except IntegrityError as exc:  # lost a race with a concurrent sign-up of the same address
        raise _duplicate(address) from exc
    if credits_nanos:
        try:
            await grant_credits(
                sessions,
                user_id=view.id,
                amount_nanos=credits_nanos,
                actor=actor,
                reason="initial credits",
                idempotency_key=initial_grant_key(view.id),
            )
        except Exception:
            await _discard_new_user(sessions, view.id)  # all or nothing
            raise
    return view


async def grant_credits(
    sessions: SessionFactory,
    *,
    user_id: int,
    amount_nanos: int,
    actor: str,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> billing.TransactionResult:
    """Give credits (a ``bonus`` ledger row referenced as a grant). With the same
    ``idempotency_key`` a retry returns the first grant instead of granting again."""
    if isinstance(amount_nanos, bool) or amount_nanos <= 0:
        raise InvalidRequest("the amount to grant must be positive", param="amount")
    key = idempotency_key or f"grant:{uuid.uuid4().hex}"
    if len(key) > 128:
        raise InvalidRequest("idempotency key must be at most 128 characters", param="idempotency_key")
    return await billing.top_up(
        sessions,
        user_id=user_id,
        amount_nanos=amount_nanos,
        idempotency_key=key,
        type="bonus",
        reference_type="grant",
        reference_id=key,
        description=reason,
        actor=actor,
    )


async def get_user(sessions: SessionFactory, user_id: int) -> UserView | None:
    async with sessions() as session:
        user = await session.get(User, user_id)
        return UserView.of(user) if user is not None else None


async def get_user_by_email(sessions: SessionFactory, email: str) -> UserView | None:
    """Case-insensitive; None for unknown (or malformed) addresses."""
    async with sessions() as session:
        user = await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        return UserView.of(user) if user is not None else None


async def list_users(sessions: SessionFactory, *, limit: int = 1000, offset: int = 0) -> list[UserView]:
    async with sessions() as session:
        rows = await session.scalars(select(User).order_by(User.id).limit(limit).offset(offset))
        return [UserView.of(row) for row in rows]


async def set_user_status(sessions: SessionFactory, user_id: int, status: str) -> UserView:
    """Enable or disable an account. A disabled account's API keys stop working within the
    verifiers' cache TTL."""
    if status not in STATUSES:
        raise InvalidRequest(f"unknown status {status!r}: use one of {', '.join(STATUSES)}", param="status")
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        user.status = status
        return UserView.of(user)


async def set_user_role(sessions: SessionFactory, user_id: int, role: str) -> UserView:
    """Make an account an administrator or a plain user (the CLI's ``users promote``)."""
    if role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}: use one of {', '.join(ROLES)}", param="role")
    async with sessions() as session, session.begin():
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"no user with id {user_id}")
        user.role = role
        return UserView.of(user)


async def authenticate(sessions: SessionFactory, email: str, password: str) -> UserView | None:
    """The active user with this e-mail and password, else None. Takes the same time whether or
    not the account exists; upgrades the stored hash when its parameters are outdated."""
    async with sessions() as session:
        user = await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
        stored = user.password_hash if user is not None else None
    if not await asyncio.to_thread(verify_password, stored, password):
        return None
    if user is None or user.status != "active" or stored is None:
        return None
    new_hash = await asyncio.to_thread(hash_password, password) if needs_rehash(stored) else None
    async with sessions() as session, session.begin():
        row = await session.get(User, user.id)
        if row is None:
            return None
        row.last_login_at = utcnow()
        if new_hash is not None and row.password_hash == stored:
            row.password_hash = new_hash
        return UserView.of(row)


def _duplicate(address: str) -> Conflict:
    return Conflict(f"a user with e-mail {address} already exists", param="email")


async def _discard_new_user(sessions: SessionFactory, user_id: int) -> None:
    try:
        async with sessions() as session, session.begin():
            await session.execute(delete(User).where(User.id == user_id))
    except Exception:  # e.g. the grant did commit after all: its ledger row keeps the user
        log.warning("could not remove user %s after its credit grant failed", user_id, exc_info=True)
