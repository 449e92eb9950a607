"""Operators' read-only views of the money: every ledger row (filtered, paged, exported as
CSV), every payment with its raw provider events, the usage log, and the consistency check
that recomputes each balance from the ledger."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select

from modelsnest.billing import verify_invariants
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import CreditTransaction, Payment, PaymentEvent, UsageLog, User, UserCredits
from modelsnest.errors import NotFound
from modelsnest.money import usd_str

PAGE_SIZE: Final = 50
CSV_BATCH: Final = 1000
TRANSACTION_TYPES: Final = ("topup", "bonus", "usage", "refund", "adjustment", "payment_refund")


@dataclass(frozen=True, slots=True)
class Filters:
    """What the list pages filter by, parsed from the query string (bad values are ignored)."""

    user: str = ""  # an e-mail (part of) or an account id
    kind: str = ""  # transaction type, payment status or usage status
    model: str = ""
    since: str = ""  # YYYY-MM-DD, UTC
    until: str = ""

    @classmethod
    def of(cls, params: Any) -> Filters:
        return cls(
            **{
                name: str(params.get(name, "")).strip()[:200]
                for name in ("user", "kind", "model", "since", "until")
            }
        )

    def query(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("user", self.user),
                ("kind", self.kind),
                ("model", self.model),
                ("since", self.since),
                ("until", self.until),
            )
            if v
        }


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Any]
    total: int
    page: int
    pages: int


def _day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def _where(statement: Any, model: Any, filters: Filters) -> Any:
    if filters.user:
        text = filters.user.lower()
        if text.isdigit():
            statement = statement.where(model.user_id == int(text))
        else:
            statement = statement.where(func.lower(User.email).contains(text))
    since, until = _day(filters.since), _day(filters.until)
    if since is not None:
        statement = statement.where(model.created_at >= since)
    if until is not None:
        statement = statement.where(model.created_at < until + timedelta(days=1))
    return statement


async def _page(sessions: SessionFactory, statement: Any, order: Any, page: int) -> Page:
    async with sessions() as session:
        total = int(await session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(max(1, page), pages)
        rows = (
            await session.execute(statement.order_by(order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
        ).all()
    return Page([tuple(r) for r in rows], total, page, pages)


def _transactions(filters: Filters) -> Any:
    statement = select(CreditTransaction, User.email).join(User, User.id == CreditTransaction.user_id)
    if filters.kind in TRANSACTION_TYPES:
        statement = statement.where(CreditTransaction.type == filters.kind)
    return _where(statement, CreditTransaction, filters)


async def transactions(sessions: SessionFactory, filters: Filters, page: int = 1) -> Page:
    return await _page(sessions, _transactions(filters), CreditTransaction.id.desc(), page)


CSV_HEADER: Final = (
    "id",
    "created_at",
    "user_id",
    "email",
    "type",
    "amount_usd",
    "balance_after_usd",
    "reference_type",
    "reference_id",
    "description",
    "actor",
)


async def transactions_csv(sessions: SessionFactory, filters: Filters) -> AsyncIterator[str]:
    """The matching rows, oldest first, as CSV (amounts as exact decimal dollars), in batches
    so an export of the whole ledger never sits in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield buffer.getvalue()
    last_id = 0
    while True:
        buffer.seek(0)
        buffer.truncate()
        statement = _transactions(filters).where(CreditTransaction.id > last_id)
        async with sessions() as session:
            rows = (await session.execute(statement.order_by(CreditTransaction.id).limit(CSV_BATCH))).all()
        if not rows:
            return
        for t, email in rows:
            writer.writerow(
                [
                    t.id,
                    t.created_at.isoformat(),
                    t.user_id,
                    email,
                    t.type,
                    usd_str(t.amount_nanos),
                    usd_str(t.balance_after_nanos),
                    t.reference_type or "",
                    t.reference_id or "",
                    _cell(t.description),
                    _cell(t.actor),
                ]
            )
            last_id = t.id
        yield buffer.getvalue()


def _cell(value: str | None) -> str:
    """A text cell that a spreadsheet will not run as a formula."""
    text = value or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def payments(sessions: SessionFactory, filters: Filters, page: int = 1) -> Page:
    statement = select(Payment, User.email).join(User, User.id == Payment.user_id)
    if filters.kind:
        statement = statement.where(Payment.status == filters.kind)
    return await _page(sessions, _where(statement, Payment, filters), Payment.id.desc(), page)


@dataclass(frozen=True, slots=True)
class PaymentDetail:
    payment: Payment
    email: str
    events: list[PaymentEvent]


async def payment_detail(sessions: SessionFactory, public_id: str) -> PaymentDetail:
    async with sessions() as session:
        row = (
            await session.execute(
                select(Payment, User.email)
                .join(User, User.id == Payment.user_id)
                .where(Payment.public_id == public_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"no payment {public_id!r}", param="payment")
        payment, email = row
        events = list(
            await session.scalars(
                select(PaymentEvent).where(PaymentEvent.payment_id == payment.id).order_by(PaymentEvent.id)
            )
        )
    return PaymentDetail(payment, email, events)


async def usage(sessions: SessionFactory, filters: Filters, page: int = 1) -> Page:
    statement = select(UsageLog, User.email).join(User, User.id == UsageLog.user_id)
    if filters.kind:
        statement = statement.where(UsageLog.status == filters.kind)
    if filters.model:
        statement = statement.where(UsageLog.model_slug == filters.model)
    return await _page(sessions, _where(statement, UsageLog, filters), UsageLog.id.desc(), page)


@dataclass(frozen=True, slots=True)
class BalanceDifference:
    user_id: int
    email: str
    balance_nanos: int
    ledger_nanos: int

    @property
    def difference_nanos(self) -> int:
        return self.balance_nanos - self.ledger_nanos


@dataclass(frozen=True, slots=True)
class Consistency:
    accounts: int
    ledger_total_nanos: int
    balance_total_nanos: int
    differences: list[BalanceDifference]
    problems: list[str]  # every invariant ``billing.verify_invariants`` checks

    @property
    def ok(self) -> bool:
        return not self.differences and not self.problems


async def consistency(sessions: SessionFactory) -> Consistency:
    """Every balance recomputed from the ledger (Σ rows per user), the accounts whose stored
    balance differs, and the ledger's own full check (chains, holds, rollups)."""
    sums = (
        select(CreditTransaction.user_id, func.sum(CreditTransaction.amount_nanos).label("total"))
        .group_by(CreditTransaction.user_id)
        .subquery()
    )
    statement = (
        select(UserCredits.user_id, User.email, UserCredits.balance_nanos, func.coalesce(sums.c.total, 0))
        .join(User, User.id == UserCredits.user_id)
        .outerjoin(sums, sums.c.user_id == UserCredits.user_id)
    )
    async with sessions() as session:
        rows = (await session.execute(statement)).all()
        orphan = await session.scalar(
            select(func.count()).select_from(sums).where(~sums.c.user_id.in_(select(UserCredits.user_id)))
        )
    differences = [
        BalanceDifference(int(uid), email, int(balance), int(total))
        for uid, email, balance, total in rows
        if int(balance) != int(total)
    ]
    problems = await verify_invariants(sessions)
    if orphan:
        problems.append(f"{orphan} user(s) have ledger rows but no credit account")
    return Consistency(
        accounts=len(rows),
        ledger_total_nanos=sum(int(r[3]) for r in rows),
        balance_total_nanos=sum(int(r[2]) for r in rows),
        differences=differences,
        problems=problems,
    )
