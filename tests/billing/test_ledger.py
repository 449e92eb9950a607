"""Top-ups, adjustments, payment refunds, balances and the ledger listing (billing/ledger.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from modelsnest import billing
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import UserCredits
from modelsnest.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound
from tests.billing.helpers import USD, MakeUser, new_key, usage_for


async def test_a_top_up_appends_a_row_and_raises_the_balance(sessions: SessionFactory, user: int) -> None:
    first = await billing.top_up(sessions, user_id=user, amount_nanos=5 * USD, idempotency_key=new_key())
    second = await billing.top_up(
        sessions,
        user_id=user,
        amount_nanos=2 * USD,
        idempotency_key=new_key(),
        reference_type="payment",
        reference_id="pay_1",
        description="PayPal capture",
        actor="paypal",
    )

    assert (first.amount_nanos, first.balance_after_nanos, first.replayed) == (5 * USD, 5 * USD, False)
    assert (second.amount_nanos, second.balance_after_nanos) == (2 * USD, 7 * USD)
    assert await billing.get_balance(sessions, user) == billing.Balance(user, 7 * USD, 0)
    rows = await billing.list_transactions(sessions, user)
    assert [(r.type, r.amount_nanos, r.balance_after_nanos) for r in rows] == [
        ("topup", 2 * USD, 7 * USD),
        ("topup", 5 * USD, 5 * USD),
    ]
    assert (rows[0].reference_type, rows[0].reference_id, rows[0].actor) == ("payment", "pay_1", "paypal")
    assert await billing.verify_invariants(sessions, user) == []


async def test_replaying_a_top_up_changes_nothing_and_returns_the_first_result(
    sessions: SessionFactory, user: int
) -> None:
    key = new_key()
    first = await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=key)
    again = await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=key)

    assert again.replayed
    assert (again.transaction_id, again.balance_after_nanos) == (first.transaction_id, USD)
    assert (await billing.get_balance(sessions, user)).balance_nanos == USD
    assert len(await billing.list_transactions(sessions, user)) == 1


async def test_reusing_a_key_for_another_amount_or_user_is_a_conflict(
    sessions: SessionFactory, user: int, make_user: MakeUser
) -> None:
    key = new_key()
    await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=key)
    other = await make_user(sessions)

    with pytest.raises(Conflict):
        await billing.top_up(sessions, user_id=user, amount_nanos=2 * USD, idempotency_key=key)
    with pytest.raises(Conflict):
        await billing.top_up(sessions, user_id=other, amount_nanos=USD, idempotency_key=key)
    assert (await billing.get_balance(sessions, other)).balance_nanos == 0


@pytest.mark.parametrize("amount", [0, -1, 1.5, True, "100", None])
async def test_a_top_up_must_be_a_positive_int_of_nanos(
    sessions: SessionFactory, user: int, amount: Any
) -> None:
    with pytest.raises(InvalidRequest):
        await billing.top_up(sessions, user_id=user, amount_nanos=amount, idempotency_key=new_key())


async def test_a_top_up_of_an_unknown_user_is_not_found(sessions: SessionFactory) -> None:
    with pytest.raises(NotFound):
        await billing.top_up(sessions, user_id=999_999, amount_nanos=USD, idempotency_key=new_key())


async def test_a_top_up_refuses_types_that_are_not_credits(sessions: SessionFactory, user: int) -> None:
    with pytest.raises(InvalidRequest):
        await billing.top_up(
            sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key(), type="usage"
        )
    bonus = await billing.top_up(
        sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key(), type="bonus"
    )
    assert (await billing.list_transactions(sessions, user))[0].type == "bonus"
    assert bonus.balance_after_nanos == USD


async def test_an_adjustment_is_signed_and_records_who_and_why(sessions: SessionFactory, user: int) -> None:
    up = await billing.adjust(
        sessions,
        user_id=user,
        amount_nanos=3 * USD,
        reason="goodwill",
        actor="admin@x",
        idempotency_key=new_key(),
    )
    down = await billing.adjust(
        sessions,
        user_id=user,
        amount_nanos=-USD,
        reason="correction",
        actor="admin@x",
        idempotency_key=new_key(),
    )

    assert (up.balance_after_nanos, down.amount_nanos, down.balance_after_nanos) == (3 * USD, -USD, 2 * USD)
    row = (await billing.list_transactions(sessions, user))[0]
    assert (row.type, row.description, row.actor) == ("adjustment", "correction", "admin@x")


async def test_a_negative_adjustment_may_not_take_reserved_or_missing_credits(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=10 * USD, idempotency_key=new_key())
    await billing.hold(sessions, user_id=user, amount_nanos=4 * USD, idempotency_key=new_key())

    with pytest.raises(InsufficientCredits):
        await billing.adjust(
            sessions,
            user_id=user,
            amount_nanos=-7 * USD,
            reason="x",
            actor="admin",
            idempotency_key=new_key(),
        )
    exact = await billing.adjust(
        sessions, user_id=user, amount_nanos=-6 * USD, reason="x", actor="admin", idempotency_key=new_key()
    )

    assert exact.balance_after_nanos == 4 * USD
    assert (await billing.get_balance(sessions, user)).available_nanos == 0
    assert await billing.verify_invariants(sessions, user) == []


async def test_a_negative_adjustment_of_an_account_that_never_had_credits_is_refused(
    sessions: SessionFactory, user: int
) -> None:
    with pytest.raises(InsufficientCredits):
        await billing.adjust(
            sessions, user_id=user, amount_nanos=-1, reason="x", actor="admin", idempotency_key=new_key()
        )


async def test_a_replayed_adjustment_is_not_refused_even_when_credits_ran_out(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
    key = new_key()
    first = await billing.adjust(
        sessions, user_id=user, amount_nanos=-USD, reason="x", actor="admin", idempotency_key=key
    )

    again = await billing.adjust(
        sessions, user_id=user, amount_nanos=-USD, reason="x", actor="admin", idempotency_key=key
    )

    assert again.replayed and again.transaction_id == first.transaction_id
    assert (await billing.get_balance(sessions, user)).balance_nanos == 0


@pytest.mark.parametrize("amount", [0, 2.0, False])
async def test_an_adjustment_must_be_a_non_zero_int(sessions: SessionFactory, user: int, amount: Any) -> None:
    with pytest.raises(InvalidRequest):
        await billing.adjust(
            sessions,
            user_id=user,
            amount_nanos=amount,
            reason="x",
            actor="a",
            idempotency_key=new_key(),
        )


async def test_a_payment_refund_takes_back_the_credits_as_a_negative_row(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(
        sessions,
        user_id=user,
        amount_nanos=10 * USD,
        idempotency_key=new_key(),
        reference_type="payment",
        reference_id="p1",
    )

    result = await billing.refund(
        sessions, user_id=user, amount_nanos=10 * USD, payment_id="p1", idempotency_key=new_key()
    )

    assert (result.amount_nanos, result.balance_after_nanos) == (-10 * USD, 0)
    row = (await billing.list_transactions(sessions, user))[0]
    assert (row.type, row.reference_type, row.reference_id) == ("payment_refund", "payment", "p1")
    assert await billing.verify_invariants(sessions, user) == []


async def test_a_payment_refund_takes_back_spent_credits_and_leaves_the_account_in_debt(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=10 * USD, idempotency_key=new_key())
    await billing.hold(sessions, user_id=user, amount_nanos=3 * USD, idempotency_key=new_key())
    await billing.adjust(
        sessions, user_id=user, amount_nanos=-4 * USD, reason="spent", actor="t", idempotency_key=new_key()
    )
    key = new_key()

    result = await billing.refund(
        sessions, user_id=user, amount_nanos=10 * USD, payment_id="p1", idempotency_key=key
    )
    replay = await billing.refund(
        sessions, user_id=user, amount_nanos=10 * USD, payment_id="p1", idempotency_key=key
    )

    assert (result.amount_nanos, result.balance_after_nanos) == (-10 * USD, -4 * USD)
    assert replay.replayed and replay.amount_nanos == -10 * USD
    balance = await billing.get_balance(sessions, user)
    assert (balance.balance_nanos, balance.reserved_nanos, balance.available_nanos) == (
        -4 * USD,
        3 * USD,
        -7 * USD,
    )
    row = (await billing.list_transactions(sessions, user))[0]
    assert row.meta == {"uncovered_nanos": 7 * USD}
    with pytest.raises(Conflict):
        await billing.refund(
            sessions, user_id=user, amount_nanos=9 * USD, payment_id="p1", idempotency_key=key
        )
    with pytest.raises(InsufficientCredits):
        await billing.hold(sessions, user_id=user, amount_nanos=1, idempotency_key=new_key())
    assert await billing.verify_invariants(sessions, user) == []


async def test_an_account_in_debt_spends_again_only_once_a_top_up_covers_it(
    sessions: SessionFactory, user: int
) -> None:
    key = new_key()
    first = await billing.refund(
        sessions, user_id=user, amount_nanos=USD, payment_id="p9", idempotency_key=key
    )
    await billing.top_up(sessions, user_id=user, amount_nanos=5 * USD, idempotency_key=new_key())
    again = await billing.refund(
        sessions, user_id=user, amount_nanos=USD, payment_id="p9", idempotency_key=key
    )

    assert (first.amount_nanos, first.balance_after_nanos, again.replayed) == (-USD, -USD, True)
    assert (await billing.get_balance(sessions, user)).balance_nanos == 4 * USD
    held = await billing.hold(sessions, user_id=user, amount_nanos=4 * USD, idempotency_key=new_key())
    assert held.amount_nanos == 4 * USD
    assert await billing.verify_invariants(sessions, user) == []


async def test_a_settle_over_its_hold_in_debt_charges_the_hold_and_nothing_beyond(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=5 * USD, idempotency_key=new_key())
    held = await billing.hold(sessions, user_id=user, amount_nanos=2 * USD, idempotency_key=new_key())
    await billing.refund(
        sessions, user_id=user, amount_nanos=5 * USD, payment_id="p2", idempotency_key=new_key()
    )

    settled = await billing.settle(sessions, hold_id=held.hold_id, cost_nanos=3 * USD, usage=usage_for(user))

    assert (settled.charged_nanos, settled.balance_after_nanos) == (2 * USD, -2 * USD)
    assert await billing.verify_invariants(sessions, user) == []


async def test_the_database_refuses_available_below_the_clawback(sessions: SessionFactory, user: int) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            await session.execute(
                update(UserCredits).where(UserCredits.user_id == user).values(balance_nanos=-1)
            )


async def test_the_balance_of_a_user_without_an_account_is_zero(sessions: SessionFactory, user: int) -> None:
    assert await billing.get_balance(sessions, user) == billing.Balance(user, 0, 0)


async def test_ensure_account_creates_the_row_once_inside_the_callers_transaction(
    sessions: SessionFactory, user: int
) -> None:
    async with sessions.begin() as session:
        await billing.ensure_account(session, user)
        await billing.ensure_account(session, user)

    assert await billing.get_balance(sessions, user) == billing.Balance(user, 0, 0)
    assert await billing.verify_invariants(sessions, user) == []


async def test_transactions_are_listed_newest_first_in_pages(sessions: SessionFactory, user: int) -> None:
    for amount in range(1, 6):
        await billing.top_up(sessions, user_id=user, amount_nanos=amount, idempotency_key=new_key())

    page = await billing.list_transactions(sessions, user, limit=2)
    rest = await billing.list_transactions(sessions, user, before_id=page[-1].id)

    assert [r.amount_nanos for r in page] == [5, 4]
    assert [r.amount_nanos for r in rest] == [3, 2, 1]
    with pytest.raises(InvalidRequest):
        await billing.list_transactions(sessions, user, limit=0)


async def test_an_adjustment_allowed_negative_overdraws_into_an_accepted_clawback(
    sessions: SessionFactory, user: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=10 * USD, idempotency_key=new_key())
    await billing.hold(sessions, user_id=user, amount_nanos=4 * USD, idempotency_key=new_key())
    key = new_key()

    result = await billing.adjust(
        sessions,
        user_id=user,
        amount_nanos=-9 * USD,
        reason="chargeback",
        actor="admin",
        idempotency_key=key,
        allow_negative=True,
    )
    again = await billing.adjust(
        sessions,
        user_id=user,
        amount_nanos=-9 * USD,
        reason="chargeback",
        actor="admin",
        idempotency_key=key,
        allow_negative=True,
    )

    assert result.balance_after_nanos == USD and again.replayed
    balance = await billing.get_balance(sessions, user)
    assert balance.balance_nanos == USD and balance.available_nanos == -3 * USD
    assert await billing.verify_invariants(sessions, user) == []
