"""The ledger as a customer reads it: their ``credit_transactions``, newest first, filtered by
type and by UTC day, in keyset pages (index ``(user_id, created_at)``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from modelsnest.billing import _db
from modelsnest.billing.types import TransactionView
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import InvalidRequest

TYPES = ("topup", "usage", "refund", "adjustment", "bonus", "payment_refund")


@dataclass(frozen=True)
class TransactionPage:
    rows: list[TransactionView]
    has_more: bool

    @property
    def next_before(self) -> int | None:
        return self.rows[-1].id if self.has_more and self.rows else None


async def transactions_page(
    sessions: SessionFactory,
    user_id: int,
    *,
    type: str | None = None,
    start: date | None = None,
    end: date | None = None,
    before_id: int | None = None,
    limit: int = 25,
) -> TransactionPage:
    if type is not None and type not in TYPES:
        raise InvalidRequest("choose a transaction type from the list", param="type")
    if start is not None and end is not None and end < start:
        raise InvalidRequest("the end date is before the start date", param="to")
    l = _db.ledger.c  # noqa: E741
    statement = select(_db.ledger).where(l.user_id == user_id)
    if type is not None:
        statement = statement.where(l.type == type)
    if start is not None:
        statement = statement.where(l.created_at >= datetime.combine(start, time.min, tzinfo=UTC))
    if end is not None:
        statement = statement.where(
            l.created_at < datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        )
    if before_id is not None:
        statement = statement.where(l.id < before_id)
    statement = statement.order_by(l.id.desc()).limit(limit + 1)
    async with sessions() as session:
        rows = (await session.execute(statement)).all()
    views = [
        TransactionView(
            id=r.id,
            user_id=r.user_id,
            type=r.type,
            amount_nanos=r.amount_nanos,
            balance_after_nanos=r.balance_after_nanos,
            reference_type=r.reference_type,
            reference_id=r.reference_id,
            description=r.description,
            actor=r.actor,
            meta=r.meta,
            created_at=r.created_at,
        )
        for r in rows[:limit]
    ]
    return TransactionPage(views, len(rows) > limit)
