"""Settlement (hot path): turn a hold into the exact charge, in ONE transaction that
  1. marks the hold settled, guarded by ``status = 'active'`` (the once-only switch),
  2. debits the balance and frees the reservation,
  3. appends the 'usage' ledger row (none for a zero charge: failures cost nothing),
  4. writes the usage log row and the daily rollup,
  5. adds the charge to the API key's lifetime spend,
  6. and, when given a ``StoredReply``, completes the request's idempotency record with the
     answer (written before the usage row, so any later failure takes it back too).

Either all of it is committed or none: the gateway returns content only after this commits,
and a retry of an ``Idempotency-Key`` request finds either the stored answer or nothing charged.
The charge is ``cost_nanos`` (already rounded, see ``modelsnest.money``). A cost above the
hold takes the excess from available credits only as far as they go; the balance never goes
below what other holds reserve (nor further into a payment refund's debt), and the usage
row's meta records the shortfall."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate

from modelsnest.billing import _checks, _db
from modelsnest.billing.holds import check_owner
from modelsnest.billing.ledger import read_balance
from modelsnest.billing.types import SettleResult, StoredReply, UsageRecord
from modelsnest.billing.usage import write_usage
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import Conflict, NotFound


def settle_key(hold_id: str) -> str:
    """The settlement row's idempotency key: one usage row per hold, ever."""
    return f"settle:{hold_id}"


async def settle(
    sessions: SessionFactory,
    *,
    hold_id: str,
    cost_nanos: int,
    usage: UsageRecord,
    reply: StoredReply | None = None,
) -> SettleResult:
    """Charge ``cost_nanos`` against the hold. Safe to retry: a settled hold returns its first
    result (``replayed=True``) and writes nothing (a ``reply`` included: the first one stays);
    a released hold is a Conflict.

    ``reply``: store this answer in its idempotency record (still 'pending': a record that was
    completed, abandoned or purged is left as it is) in the same transaction."""
    cost = _checks.nanos(cost_nanos, "cost_nanos")
    _checks.usage(usage)
    _checks.reply(reply, usage)
    async with sessions.begin() as session:
        return await settle_in(session, hold_id=hold_id, cost=cost, usage=usage, now=utcnow(), reply=reply)


async def settle_in(
    session: AsyncSession,
    *,
    hold_id: str,
    cost: int,
    usage: UsageRecord,
    now: datetime,
    reply: StoredReply | None = None,
) -> SettleResult:
    """``settle`` inside the caller's transaction (the sweeper's, or settle's own)."""
    h = _db.holds.c
    held = (
        await session.execute(
            update(_db.holds)
            .where(h.id == hold_id, h.status == "active")
            .values(status="settled", finished_at=now, settled_nanos=cost)
            .returning(h.user_id, h.amount_nanos)
        )
    ).first()
    if held is None:
        return await _replay(session, hold_id)
    check_owner(held, usage)
    charge, balance = await _debit(session, held.user_id, held=held.amount_nanos, cost=cost)

    transaction_id: int | None = None
    if charge > 0:
        transaction_id = (
            await session.execute(
                _db.ledger.insert()
                .values(
                    user_id=held.user_id,
                    type="usage",
                    amount_nanos=-charge,
                    balance_after_nanos=balance,
                    reference_type="request",
                    reference_id=usage.request_id,
                    idempotency_key=settle_key(hold_id),
                    description=f"{usage.endpoint} {usage.model_slug}",
                    created_at=now,
                )
                .returning(_db.ledger.c.id)
            )
        ).scalar_one()
    if transaction_id is not None or charge != cost:
        await session.execute(
            update(_db.holds)
            .where(h.id == hold_id)
            .values(settled_nanos=charge, transaction_id=transaction_id)
        )
    if reply is not None:
        await session.execute(store_reply(reply, api_token_id=usage.api_token_id))

    meta = usage.meta
    if charge < cost:
        meta = {**(meta or {}), "requested_cost_nanos": cost, "shortfall_nanos": cost - charge}
    await write_usage(session, usage, cost_nanos=charge, now=now, meta=meta)
    if charge > 0 and usage.api_token_id is not None:
        t = _db.api_tokens.c
        await session.execute(
            update(_db.api_tokens)
            .where(t.id == usage.api_token_id)
            .values(spent_nanos=t.spent_nanos + charge)
        )
    return SettleResult(hold_id, transaction_id, charge, balance, replayed=False)


def store_reply(reply: StoredReply, *, api_token_id: int | None) -> Update:
    """Complete the claimed idempotency record with the answer. Only a 'pending' record of the
    same API key: never overwrite a stored answer, never answer another key's retries."""
    i = _db.idempotency.c
    return (
        update(_db.idempotency)
        .where(i.id == reply.record_id, i.status == "pending", i.api_token_id == api_token_id)
        .values(reply_values(reply))
    )


def reply_values(reply: StoredReply) -> dict[str, Any]:
    """The columns a stored reply sets (the hot ledger writes the same)."""
    return {
        "status": "completed",
        "response_status": reply.status,
        "response_body": reply.body,
        "response_media_type": reply.media_type,
        "response_headers": reply.headers,
    }


async def _debit(session: AsyncSession, user_id: int, *, held: int, cost: int) -> tuple[int, int]:
    """Free the hold and take the charge; returns (charge, balance after)."""
    c = _db.credits.c
    base = update(_db.credits).where(c.user_id == user_id).returning(c.balance_nanos)

    def take(charge: int) -> ReturningUpdate[int]:
        return base.values(balance_nanos=c.balance_nanos - charge, reserved_nanos=c.reserved_nanos - held)

    if cost <= held:  # the usual case: the hold covers it, so nothing can go wrong
        return cost, int((await session.execute(take(cost))).scalar_one())
    # Over the hold: first try the whole excess, gated on what is available right now.
    excess = cost - held
    balance = (await session.execute(take(cost).where(c.balance_nanos - c.reserved_nanos >= excess))).scalar()
    if balance is not None:
        return cost, int(balance)
    # Not enough: lock the row (FOR UPDATE; SQLite's BEGIN IMMEDIATE already serializes) and
    # take exactly what is available on top of the hold.
    current = (
        await session.execute(
            select(c.balance_nanos, c.reserved_nanos).where(c.user_id == user_id).with_for_update()
        )
    ).one()
    # Others may have freed credits since the gated update failed: never take more than the cost.
    # The hold itself is always charged (it was reserved before any payment refund could take
    # the account into debt, see ``ledger.refund``); only the excess needs available credit.
    charge = min(cost, held + max(0, current.balance_nanos - current.reserved_nanos))
    return charge, int((await session.execute(take(charge))).scalar_one())


async def _replay(session: AsyncSession, hold_id: str) -> SettleResult:
    h, l = _db.holds.c, _db.ledger.c  # noqa: E741
    row = (
        await session.execute(
            select(h.user_id, h.status, h.settled_nanos, h.transaction_id, l.balance_after_nanos)
            .select_from(_db.holds.outerjoin(_db.ledger, l.id == h.transaction_id))
            .where(h.id == hold_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"hold {hold_id} does not exist")
    if row.status != "settled":
        raise Conflict(f"hold {hold_id} was released; it cannot be settled")
    balance_after = row.balance_after_nanos
    if balance_after is None:  # nothing was charged, so no row: report the balance as it is
        balance_after = (await read_balance(session, row.user_id)).balance_nanos
    return SettleResult(hold_id, row.transaction_id, row.settled_nanos or 0, balance_after, replayed=True)
