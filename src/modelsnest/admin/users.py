"""Operators' view of the accounts: search, sort and page through them; one account with
its balance, keys, usage, payments and ledger; and the actions on it (credit adjustments,
role, status, key revocation), each recorded by exactly one audit row."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest import billing
from modelsnest.admin import audit
from modelsnest.admin.audit import Actor
from modelsnest.auth.api_keys import ApiKeyView, list_keys, revoke_key
from modelsnest.auth.users import ROLES, STATUSES, UserView
from modelsnest.auth.web_sessions import revoke_sessions
from modelsnest.billing import Balance, TransactionView
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import ApiToken, Payment, UsageLog, User, UserCredits
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from modelsnest.money import InvalidAmount, format_usd, usd_to_nanos

PAGE_SIZE: Final = 25
SORTS: Final = {
    "id": User.id,
    "email": func.lower(User.email),
    "created": User.created_at,
    "last_login": User.last_login_at,
    "balance": func.coalesce(UserCredits.balance_nanos, 0),
}
MAX_REASON: Final = 500


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    email: str
    display_name: str | None
    role: str
    status: str
    created_at: datetime
    last_login_at: datetime | None
    balance_nanos: int
    reserved_nanos: int
    active_keys: int


@dataclass(frozen=True, slots=True)
class UserList:
    rows: list[UserRow]
    total: int
    page: int
    pages: int
    sort: str
    direction: str


@dataclass(frozen=True, slots=True)
class PaymentRow:
    public_id: str
    provider: str
    status: str
    amount_nanos: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UsageRow:
    request_id: str
    model_slug: str
    provider_name: str | None
    endpoint: str
    status: str
    prompt_tokens: int
    completion_tokens: int
    cost_nanos: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UserDetail:
    user: UserView
    balance: Balance
    keys: list[ApiKeyView]
    usage: list[UsageRow]
    payments: list[PaymentRow]
    ledger: list[TransactionView]


async def search_users(
    sessions: SessionFactory, *, query: str = "", sort: str = "id", direction: str = "desc", page: int = 1
) -> UserList:
    """Accounts whose e-mail or name contains ``query`` (or whose id it is), sorted and paged."""
    sort = sort if sort in SORTS else "id"
    direction = "asc" if direction == "asc" else "desc"
    conditions = []
    text = query.strip().lower()
    if text:
        matches = [func.lower(User.email).contains(text), func.lower(User.display_name).contains(text)]
        if text.isdigit():
            matches.append(User.id == int(text))
        conditions.append(or_(*matches))
    keys = (
        select(ApiToken.user_id, func.count().label("n"))
        .where(ApiToken.revoked_at.is_(None))
        .group_by(ApiToken.user_id)
        .subquery()
    )
    column = SORTS[sort]
    order = column.asc() if direction == "asc" else column.desc()
    statement = (
        select(
            User,
            func.coalesce(UserCredits.balance_nanos, 0),
            func.coalesce(UserCredits.reserved_nanos, 0),
            func.coalesce(keys.c.n, 0),
        )
        .outerjoin(UserCredits, UserCredits.user_id == User.id)
        .outerjoin(keys, keys.c.user_id == User.id)
        .where(*conditions)
    )
    async with sessions() as session:
        total = int(await session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        result = await session.execute(
            statement.order_by(order, User.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        )
        rows = [
            UserRow(
                id=user.id,
                email=user.email,
                display_name=user.display_name,
                role=user.role,
                status=user.status,
                created_at=user.created_at,
                last_login_at=user.last_login_at,
                balance_nanos=int(balance),
                reserved_nanos=int(reserved),
                active_keys=int(n),
            )
            for user, balance, reserved, n in result.all()
        ]
    return UserList(rows, total, page, pages, sort, direction)


async def _user(session: AsyncSession, user_id: int, *, lock: bool = False) -> User:
    user = await session.get(User, user_id, with_for_update=lock)
    if user is None:
        raise NotFound(f"no user with id {user_id}", param="user")
    return user


async def user_detail(sessions: SessionFactory, user_id: int) -> UserDetail:
    async with sessions() as session:
        user = UserView.of(await _user(session, user_id))
        usage = [
            UsageRow(
                request_id=r.request_id,
                model_slug=r.model_slug,
                provider_name=r.provider_name,
                endpoint=r.endpoint,
                status=r.status,
                prompt_tokens=r.prompt_tokens,
                completion_tokens=r.completion_tokens,
                cost_nanos=r.cost_nanos,
                created_at=r.created_at,
            )
            for r in await session.scalars(
                select(UsageLog).where(UsageLog.user_id == user_id).order_by(UsageLog.id.desc()).limit(20)
            )
        ]
        payments = [
            PaymentRow(p.public_id, p.provider, p.status, p.amount_nanos, p.created_at)
            for p in await session.scalars(
                select(Payment).where(Payment.user_id == user_id).order_by(Payment.id.desc()).limit(20)
            )
        ]
    return UserDetail(
        user=user,
        balance=await billing.get_balance(sessions, user_id),
        keys=await list_keys(sessions, user_id),
        usage=usage,
        payments=payments,
        ledger=await billing.list_transactions(sessions, user_id, limit=50),
    )


def parse_amount(value: str) -> int:
    """A positive dollar amount typed by an operator (``25``, ``12.50``, ``$1,000``) in nanos."""
    cleaned = value.strip().lstrip("$").replace(",", "")
    try:
        nanos = usd_to_nanos(cleaned) if cleaned else 0
    except InvalidAmount as exc:
        raise InvalidRequest("enter an amount in dollars, like 25 or 12.50", param="amount_usd") from exc
    if nanos <= 0:
        raise InvalidRequest("the amount must be more than $0", param="amount_usd")
    return nanos


def clean_reason(value: str) -> str:
    reason = " ".join(value.split())
    if not reason:
        raise InvalidRequest("give a reason: it is kept in the ledger and the audit log", param="reason")
    if len(reason) > MAX_REASON:
        raise InvalidRequest(f"keep the reason under {MAX_REASON} characters", param="reason")
    return reason


def new_action_key() -> str:
    """The idempotency key a credit form carries, so a double submit credits once."""
    return "admin-" + secrets.token_urlsafe(18)


async def adjust_credits(
    sessions: SessionFactory,
    actor: Actor,
    user_id: int,
    *,
    amount_nanos: int,
    reason: str,
    idempotency_key: str,
    allow_negative: bool = False,
) -> billing.TransactionResult:
    """A top-up (positive) or deduction (negative) through the ledger's ``adjust``, which
    refuses a deduction beyond what is available unless ``allow_negative`` (the operator
    ticked "allow the balance to go below zero"); one adjustment row and one audit row."""
    if not idempotency_key.startswith("admin-") or len(idempotency_key) > 64:
        raise InvalidRequest("the form is out of date: reload the page", param="_form")
    async with sessions() as session:
        await _user(session, user_id)
    before = await billing.get_balance(sessions, user_id)
    result = await billing.adjust(
        sessions,
        user_id=user_id,
        amount_nanos=amount_nanos,
        reason=reason,
        actor=actor.label,
        idempotency_key=idempotency_key,
        allow_negative=allow_negative and amount_nanos < 0,
    )
    if not result.replayed:
        await audit.record(
            sessions,
            actor,
            "credits.topup" if amount_nanos > 0 else "credits.deduct",
            "user",
            user_id,
            before={"balance_nanos": before.balance_nanos},
            after={
                "balance_nanos": result.balance_after_nanos,
                "amount_nanos": amount_nanos,
                "amount": format_usd(amount_nanos),
                "reason": reason,
                "transaction_id": result.transaction_id,
                **({"allow_negative": True} if allow_negative and amount_nanos < 0 else {}),
            },
        )
    return result


async def _active_admins(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(User).where(User.role == "admin", User.status == "active")
        )
        or 0
    )


async def _change_user(
    sessions: SessionFactory, actor: Actor, user_id: int, *, field: str, value: str, action: str
) -> UserView:
    async with sessions.begin() as session:
        user = await _user(session, user_id, lock=True)
        old = str(getattr(user, field))
        if old == value:
            return UserView.of(user)
        leaves_admin = user.role == "admin" and user.status == "active"
        if leaves_admin and await _active_admins(session) <= 1:
            raise Conflict(
                "this is the last active administrator: promote another account first",
                code="LAST_ADMIN",
            )
        setattr(user, field, value)
        audit.add(session, actor, action, "user", user_id, before={field: old}, after={field: value})
        await session.flush()
        view = UserView.of(user)
    return view


async def set_role(sessions: SessionFactory, actor: Actor, user_id: int, role: str) -> UserView:
    if role not in ROLES:
        raise InvalidRequest(f"choose one of the roles: {', '.join(ROLES)}", param="role")
    return await _change_user(sessions, actor, user_id, field="role", value=role, action="user.role")


async def set_status(sessions: SessionFactory, actor: Actor, user_id: int, status: str) -> UserView:
    """Disable (sessions end now; API keys within the verifiers' cache TTL) or enable."""
    if status not in STATUSES:
        raise InvalidRequest(f"choose one of: {', '.join(STATUSES)}", param="status")
    view = await _change_user(sessions, actor, user_id, field="status", value=status, action="user.status")
    if status == "disabled":
        await revoke_sessions(sessions, user_id)
    return view


async def record_reset_link(sessions: SessionFactory, actor: Actor, user: UserView) -> None:
    await audit.record(sessions, actor, "user.password_reset", "user", user.id, after={"email": user.email})


async def revoke_user_key(sessions: SessionFactory, actor: Actor, user_id: int, key_id: int) -> ApiKeyView:
    before = next((k for k in await list_keys(sessions, user_id) if k.id == key_id), None)
    if before is None:
        raise NotFound("this account has no such key", param="key")
    key = await revoke_key(sessions, key_id, user_id=user_id)
    if before.revoked_at is None:
        await audit.record(
            sessions,
            actor,
            "key.revoke",
            "api_key",
            key_id,
            before={"status": before.status, "user_id": user_id, "prefix": key.prefix},
            after={"status": "revoked"},
        )
    return key


def user_summary(user: UserView) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "role": user.role, "status": user.status}
