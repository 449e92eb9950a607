"""``verify_invariants``: re-derive every number the ledger keeps and report any disagreement.

Run by the tests after every step, and by operators whenever a balance is in doubt.
All checks read one snapshot (REPEATABLE READ on PostgreSQL; SQLite's write lock), so the
service may keep running while it checks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.billing import _db
from modelsnest.billing.types import OVERDRAFT
from modelsnest.db.engine import SessionFactory

_MAX_LISTED = 20  # a broken chain would otherwise list every later row


async def verify_invariants(sessions: SessionFactory, user_id: int | None = None) -> list[str]:
    """Human-readable problems for one user (or everyone); ``[]`` when all is well."""
    async with sessions() as session:
        if _db.dialect_name(session) == "postgresql":
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return [
            *await _accounts(session, user_id),
            *await _chain(session, user_id),
            *await _holds(session, user_id),
            *await _usage(session, user_id),
        ]


def _only(statement: Select[Any], column: Any, user_id: int | None) -> Select[Any]:
    return statement if user_id is None else statement.where(column == user_id)


async def _accounts(session: AsyncSession, user_id: int | None) -> list[str]:
    """balance = Σ ledger rows; reserved = Σ active holds; reserved ≥ 0; available ≥ 0 except
    for a payment refund's debt or an operator's deduction allowed to overdraw (``admin_overdraft``):
    available ≥ −clawback, and clawback ≤ what payment refunds and those deductions took."""
    c, l, h = _db.credits.c, _db.ledger.c, _db.holds.c  # noqa: E741
    ledger_sum = select(l.user_id, func.sum(l.amount_nanos).label("total")).group_by(l.user_id).subquery()
    held_sum = (
        select(h.user_id, func.sum(h.amount_nanos).label("total"))
        .where(h.status == "active")
        .group_by(h.user_id)
        .subquery()
    )
    refunded_sum = (  # what may have been taken beyond available: refunds and overdrafts
        select(l.user_id, (-func.sum(l.amount_nanos)).label("total"))
        .where(
            or_(
                l.type == "payment_refund",
                and_(l.type == "adjustment", l.reference_type == OVERDRAFT, l.amount_nanos < 0),
            )
        )
        .group_by(l.user_id)
        .subquery()
    )
    statement = select(
        c.user_id,
        c.balance_nanos,
        c.reserved_nanos,
        c.clawback_nanos,
        func.coalesce(ledger_sum.c.total, 0).label("ledger"),
        func.coalesce(held_sum.c.total, 0).label("held"),
        func.coalesce(refunded_sum.c.total, 0).label("refunded"),
    ).select_from(
        _db.credits.outerjoin(ledger_sum, ledger_sum.c.user_id == c.user_id)
        .outerjoin(held_sum, held_sum.c.user_id == c.user_id)
        .outerjoin(refunded_sum, refunded_sum.c.user_id == c.user_id)
    )
    problems = []
    for r in await session.execute(_only(statement, c.user_id, user_id)):
        who = f"user {r.user_id}"
        if r.balance_nanos != r.ledger:
            problems.append(f"{who}: balance {r.balance_nanos} != sum of ledger rows {int(r.ledger)}")
        if r.reserved_nanos != r.held:
            problems.append(f"{who}: reserved {r.reserved_nanos} != sum of active holds {int(r.held)}")
        if r.reserved_nanos < 0:
            problems.append(f"{who}: reserved is negative ({r.reserved_nanos})")
        available = r.balance_nanos - r.reserved_nanos
        if available < -r.clawback_nanos:
            problems.append(f"{who}: available {available} is below minus its clawback ({r.clawback_nanos})")
        if not 0 <= r.clawback_nanos <= r.refunded:
            problems.append(
                f"{who}: clawback {r.clawback_nanos} is outside 0..payment refunds and overdrafts ({int(r.refunded)})"
            )
    accounts = select(c.user_id)
    orphans = union(
        _only(select(l.user_id).where(l.user_id.not_in(accounts)), l.user_id, user_id),
        _only(select(h.user_id).where(h.status == "active", h.user_id.not_in(accounts)), h.user_id, user_id),
    )
    for orphan in (await session.execute(orphans)).scalars():
        problems.append(f"user {orphan}: ledger rows or active holds but no user_credits row")
    return problems


async def _chain(session: AsyncSession, user_id: int | None) -> list[str]:
    """Each row's balance_after is the running sum of that user's rows up to it (by id)."""
    l = _db.ledger.c  # noqa: E741
    running = _only(
        select(
            l.id,
            l.user_id,
            l.balance_after_nanos,
            func.sum(l.amount_nanos).over(partition_by=l.user_id, order_by=l.id).label("running"),
        ),
        l.user_id,
        user_id,
    ).subquery()
    broken = (
        select(running)
        .where(running.c.balance_after_nanos != running.c.running)
        .order_by(running.c.id)
        .limit(_MAX_LISTED)
    )
    return [
        f"user {r.user_id}: ledger row {r.id} says balance_after {r.balance_after_nanos}, "
        f"rows up to it sum to {int(r.running)}"
        for r in await session.execute(broken)
    ]


async def _holds(session: AsyncSession, user_id: int | None) -> list[str]:
    """A settled hold points at its usage row (or charged 0); a released one charged nothing."""
    h, l = _db.holds.c, _db.ledger.c  # noqa: E741
    statement = (
        select(h.id, h.status, h.settled_nanos, h.transaction_id, l.amount_nanos, l.type)
        .select_from(_db.holds.outerjoin(_db.ledger, l.id == h.transaction_id))
        .where(
            or_(
                and_(h.status == "settled", h.settled_nanos.is_(None)),
                and_(h.status == "settled", h.settled_nanos > 0, h.transaction_id.is_(None)),
                and_(
                    h.transaction_id.is_not(None), or_(l.type != "usage", -l.amount_nanos != h.settled_nanos)
                ),
                and_(h.status != "settled", h.transaction_id.is_not(None)),
            )
        )
        .order_by(h.id)
        .limit(_MAX_LISTED)
    )
    return [
        f"hold {r.id} ({r.status}): settled_nanos {r.settled_nanos}, transaction {r.transaction_id} "
        f"({r.type} {r.amount_nanos}) do not agree"
        for r in await session.execute(_only(statement, h.user_id, user_id))
    ]


async def _usage(session: AsyncSession, user_id: int | None) -> list[str]:
    """What the rollups say was spent equals what the ledger charged, per user and per key."""
    l, d, t = _db.ledger.c, _db.usage_daily.c, _db.api_tokens.c  # noqa: E741
    charged = _only(
        select(l.user_id, (-func.sum(l.amount_nanos)).label("total")).where(l.type == "usage"),
        l.user_id,
        user_id,
    ).group_by(l.user_id)
    rolled = _only(select(d.user_id, func.sum(d.cost_nanos).label("total")), d.user_id, user_id).group_by(
        d.user_id
    )
    by_ledger = {r.user_id: int(r.total) for r in await session.execute(charged)}
    by_rollup = {r.user_id: int(r.total) for r in await session.execute(rolled)}
    problems = [
        f"user {uid}: usage rollups total {by_rollup.get(uid, 0)}, usage ledger rows {by_ledger.get(uid, 0)}"
        for uid in sorted(by_ledger.keys() | by_rollup.keys())
        if by_ledger.get(uid, 0) != by_rollup.get(uid, 0)
    ]
    per_key = (
        select(d.api_token_id, func.sum(d.cost_nanos).label("total")).group_by(d.api_token_id).subquery()
    )
    spent = select(t.id, t.spent_nanos, func.coalesce(per_key.c.total, 0).label("rolled")).select_from(
        _db.api_tokens.outerjoin(per_key, per_key.c.api_token_id == t.id)
    )
    for r in await session.execute(_only(spent, t.user_id, user_id)):
        if r.spent_nanos != r.rolled:
            problems.append(f"API key {r.id}: spent_nanos {r.spent_nanos} != usage rollups {int(r.rolled)}")
    return problems
