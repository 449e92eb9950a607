"""verify_invariants notices every kind of damage (billing/audit.py). The damage is done with
raw SQL, around the ledger, the way only a bug or a hand-edit could."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from modelsnest import billing
from modelsnest.db.engine import SessionFactory
from tests.billing.helpers import USD, MakeUser, new_key, usage_for


async def busy_account(sessions: SessionFactory, user: int, api_token: int) -> str:
    """A top-up, a settled request, a released one and an active hold."""
    await billing.top_up(sessions, user_id=user, amount_nanos=10 * USD, idempotency_key=new_key())
    settled = await billing.hold(sessions, user_id=user, amount_nanos=2 * USD, idempotency_key=new_key())
    await billing.settle(sessions, hold_id=settled.hold_id, cost_nanos=USD, usage=usage_for(user, api_token))
    released = await billing.hold(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
    await billing.release(sessions, hold_id=released.hold_id)
    await billing.hold(sessions, user_id=user, amount_nanos=3 * USD, idempotency_key=new_key())
    return settled.hold_id


async def tamper(sessions: SessionFactory, sql: str, **params: object) -> None:
    async with sessions.begin() as session:
        await session.execute(text(sql), params)


DAMAGE = {
    "balance": (
        "UPDATE user_credits SET balance_nanos = balance_nanos + 5 WHERE user_id = :user",
        "sum of ledger rows",
    ),
    "reserved": (
        "UPDATE user_credits SET reserved_nanos = reserved_nanos - 5 WHERE user_id = :user",
        "active holds",
    ),
    "chain": (
        "UPDATE credit_transactions SET balance_after_nanos = balance_after_nanos + 1 "
        "WHERE id = (SELECT MIN(id) FROM credit_transactions WHERE user_id = :user)",
        "rows up to it sum to",
    ),
    "hold": ("UPDATE credit_holds SET settled_nanos = 7 WHERE id = :hold", "do not agree"),
    "rollup": (
        "UPDATE usage_daily SET cost_nanos = cost_nanos + 1 WHERE user_id = :user",
        "usage rollups total",
    ),
    "key": ("UPDATE api_tokens SET spent_nanos = 0 WHERE user_id = :user", "spent_nanos"),
    "account": ("DELETE FROM user_credits WHERE user_id = :user", "no user_credits row"),
}


async def test_a_busy_but_healthy_account_has_no_problems(
    sessions: SessionFactory, user: int, api_token: int
) -> None:
    await busy_account(sessions, user, api_token)
    assert await billing.verify_invariants(sessions) == []
    assert await billing.verify_invariants(sessions, user) == []


@pytest.mark.parametrize("damage", sorted(DAMAGE))
async def test_damage_is_reported_for_that_user_only(
    sessions: SessionFactory, user: int, api_token: int, make_user: MakeUser, damage: str
) -> None:
    hold_id = await busy_account(sessions, user, api_token)
    bystander = await make_user(sessions)
    await billing.top_up(sessions, user_id=bystander, amount_nanos=USD, idempotency_key=new_key())
    sql, expected = DAMAGE[damage]

    await tamper(sessions, sql, user=user, hold=hold_id)

    problems = await billing.verify_invariants(sessions, user)
    assert problems and all(isinstance(p, str) for p in problems)
    assert any(expected in p for p in problems), problems
    assert await billing.verify_invariants(sessions, bystander) == []
    assert await billing.verify_invariants(sessions) != []
