"""Reading and writing ``payments`` rows (Core statements; views leave as dataclasses)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import Invoice, Payment, PaymentEvent
from modelsnest.errors import NotFound
from modelsnest.payments.types import PaymentView

payments = cast(Table, Payment.__table__)
events = cast(Table, PaymentEvent.__table__)
invoices = cast(Table, Invoice.__table__)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, stored_hash: str) -> bool:
    return bool(token) and hmac.compare_digest(token_hash(str(token)), stored_hash)


@dataclass(frozen=True)
class Lookup:
    """How a provider names a payment: our id echoed back, its checkout id, its payment id."""

    reference: str | None = None
    checkout_id: str | None = None
    payment_id: str | None = None


def _view_columns() -> list[Any]:
    return [*payments.c, invoices.c.number.label("invoice_number")]


def _with_invoice() -> Any:
    return select(*_view_columns()).select_from(
        payments.outerjoin(invoices, invoices.c.payment_id == payments.c.id)
    )


def view_of(row: Row[Any]) -> PaymentView:
    return PaymentView(
        id=row.public_id,
        user_id=row.user_id,
        provider=row.provider,
        kind=row.kind,
        status=row.status,
        amount_nanos=row.amount_nanos,
        currency=row.currency,
        refunded_nanos=row.refunded_nanos,
        checkout_url=row.checkout_url,
        failure_reason=row.failure_reason,
        invoice_number=getattr(row, "invoice_number", None),
        created_at=row.created_at,
        completed_at=row.completed_at,
        refunded_at=row.refunded_at,
    )


async def read_view(session: AsyncSession, public_id: str) -> PaymentView | None:
    row = (await session.execute(_with_invoice().where(payments.c.public_id == public_id))).first()
    return view_of(row) if row is not None else None


async def get_view(sessions: SessionFactory, public_id: str) -> PaymentView:
    async with sessions() as session:
        view = await read_view(session, public_id)
    if view is None:
        raise NotFound(f"no payment {public_id}", code="PAYMENT_NOT_FOUND")
    return view


async def user_view(sessions: SessionFactory, user_id: int, public_id: object) -> PaymentView:
    """One of the user's own payments; another user's id is the same 404 as a missing one."""
    if not isinstance(public_id, str) or not public_id.startswith("pay_") or len(public_id) > 40:
        raise NotFound(f"no payment {public_id!s:.40}", code="PAYMENT_NOT_FOUND", param="id")
    async with sessions() as session:
        row = (
            await session.execute(
                _with_invoice().where(payments.c.public_id == public_id, payments.c.user_id == user_id)
            )
        ).first()
    if row is None:
        raise NotFound(f"no payment {public_id}", code="PAYMENT_NOT_FOUND", param="id")
    return view_of(row)


async def user_views(
    sessions: SessionFactory, user_id: int, *, limit: int = 50, before: str | None = None
) -> list[PaymentView]:
    statement = _with_invoice().where(payments.c.user_id == user_id)
    async with sessions() as session:
        if before is not None:
            anchor = (
                await session.execute(
                    select(payments.c.id).where(payments.c.public_id == before, payments.c.user_id == user_id)
                )
            ).scalar()
            if anchor is not None:
                statement = statement.where(payments.c.id < anchor)
        rows = (await session.execute(statement.order_by(payments.c.id.desc()).limit(limit))).all()
    return [view_of(row) for row in rows]


async def lock_payment(session: AsyncSession, provider: str, lookup: Lookup) -> Row[Any] | None:
    """The payment a provider names, locked for this transaction (FOR UPDATE on PostgreSQL;
    SQLite's BEGIN IMMEDIATE already serializes writers). Our own id first, then the
    provider's ids: a forged reference cannot pick another payment, because the caller checks
    that every id given agrees with the row."""
    p = payments.c
    for column, value in (
        (p.public_id, lookup.reference),
        (p.provider_checkout_id, lookup.checkout_id),
        (p.provider_payment_id, lookup.payment_id),
    ):
        if not value:
            continue
        row = (
            await session.execute(
                select(payments).where(column == value, p.provider == provider).with_for_update()
            )
        ).first()
        if row is not None:
            return row
    return None


def disagreement(row: Row[Any], lookup: Lookup) -> str | None:
    """Why the ids a provider gave do not all name this payment (None when they do)."""
    if lookup.reference and lookup.reference != row.public_id:
        return f"the provider's reference {lookup.reference!r} is not this payment"
    if lookup.checkout_id and row.provider_checkout_id and lookup.checkout_id != row.provider_checkout_id:
        return f"the provider's checkout {lookup.checkout_id!r} is not this payment's"
    if lookup.payment_id and row.provider_payment_id and lookup.payment_id != row.provider_payment_id:
        return f"the provider's payment {lookup.payment_id!r} is not this payment's"
    return None
