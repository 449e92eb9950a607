"""Holds, checkpoints and releases (billing/holds.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from modelsnest import billing
from modelsnest.db.base import utcnow
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound
from tests.billing.helpers import USD, MakeUser, daily_rows, hold_row, new_key, usage_for, usage_log


async def fund(sessions: SessionFactory, user: int, amount: int) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=amount, idempotency_key=new_key())


async def test_a_hold_reserves_credits_without_touching_the_balance(
    sessions: SessionFactory, user: int
) -> None:
    await fund(sessions, user, 10 * USD)
    before = utcnow()

    held = await billing.hold(
        sessions,
        user_id=user,
        amount_nanos=4 * USD,
        idempotency_key=new_key(),
        request_id="req_1",
        ttl_seconds=60,
    )

    assert (held.user_id, held.amount_nanos, held.replayed) == (user, 4 * USD, False)
    assert before + timedelta(seconds=60) <= held.expires_at <= utcnow() + timedelta(seconds=60)
    balance = await billing.get_balance(sessions, user)
    assert (balance.balance_nanos, balance.reserved_nanos, balance.available_nanos) == (
        10 * USD,
        4 * USD,
        6 * USD,
    )
    row = await hold_row(sessions, held.hold_id)
    assert (row.status, row.request_id, row.amount_nanos) == ("active", "req_1", 4 * USD)
    assert len(await billing.list_transactions(sessions, user)) == 1  # a hold is not a ledger row
    assert await billing.verify_invariants(sessions, user) == []


async def test_a_hold_larger_than_available_is_refused_with_402(sessions: SessionFactory, user: int) -> None:
    await fund(sessions, user, 10 * USD)
    await billing.hold(sessions, user_id=user, amount_nanos=7 * USD, idempotency_key=new_key())

    with pytest.raises(InsufficientCredits) as refused:
        await billing.hold(sessions, user_id=user, amount_nanos=3 * USD + 1, idempotency_key=new_key())

    assert refused.value.status == 402
    exact = await billing.hold(sessions, user_id=user, amount_nanos=3 * USD, idempotency_key=new_key())
    assert exact.amount_nanos == 3 * USD
    assert (await billing.get_balance(sessions, user)).available_nanos == 0


async def test_a_user_without_credits_cannot_hold_anything_but_zero(
    sessions: SessionFactory, user: int
) -> None:
    with pytest.raises(InsufficientCredits):
        await billing.hold(sessions, user_id=user, amount_nanos=1, idempotency_key=new_key())

    free = await billing.hold(sessions, user_id=user, amount_nanos=0, idempotency_key=new_key())

    assert free.amount_nanos == 0
    assert await billing.get_balance(sessions, user) == billing.Balance(user, 0, 0)


async def test_replaying_a_hold_returns_the_same_hold_and_reserves_once(
    sessions: SessionFactory, user: int
) -> None:
    await fund(sessions, user, 10 * USD)
    key = new_key()

    first = await billing.hold(sessions, user_id=user, amount_nanos=6 * USD, idempotency_key=key)
    again = await billing.hold(sessions, user_id=user, amount_nanos=6 * USD, idempotency_key=key)

    assert again.replayed and (again.hold_id, again.expires_at) == (first.hold_id, first.expires_at)
    assert (await billing.get_balance(sessions, user)).reserved_nanos == 6 * USD


async def test_a_hold_key_reused_for_another_amount_or_user_is_a_conflict(
    sessions: SessionFactory, user: int, make_user: MakeUser
) -> None:
    other = await make_user(sessions)
    await fund(sessions, user, 10 * USD)
    await fund(sessions, other, 10 * USD)
    key = new_key()
    await billing.hold(sessions, user_id=user, amount_nanos=USD, idempotency_key=key)

    with pytest.raises(Conflict):
        await billing.hold(sessions, user_id=user, amount_nanos=2 * USD, idempotency_key=key)
    with pytest.raises(Conflict):
        await billing.hold(sessions, user_id=other, amount_nanos=USD, idempotency_key=key)
    assert (await billing.get_balance(sessions, other)).reserved_nanos == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_nanos": -1},
        {"amount_nanos": 1.0},
        {"amount_nanos": True},
        {"ttl_seconds": 0},
        {"idempotency_key": ""},
    ],
)
async def test_hold_arguments_are_checked(
    sessions: SessionFactory, user: int, changes: dict[str, Any]
) -> None:
    arguments: dict[str, Any] = {
        "user_id": user,
        "amount_nanos": 1,
        "idempotency_key": new_key(),
        **changes,
    }
    with pytest.raises(InvalidRequest):
        await billing.hold(sessions, **arguments)


async def test_a_hold_for_an_unknown_api_key_is_not_found_and_reserves_nothing(
    sessions: SessionFactory, user: int
) -> None:
    await fund(sessions, user, USD)

    with pytest.raises(NotFound):
        await billing.hold(
            sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key(), api_token_id=424242
        )

    assert (await billing.get_balance(sessions, user)).reserved_nanos == 0


async def test_releasing_frees_the_whole_hold_and_logs_the_request_at_no_cost(
    sessions: SessionFactory, user: int
) -> None:
    await fund(sessions, user, 10 * USD)
    held = await billing.hold(sessions, user_id=user, amount_nanos=4 * USD, idempotency_key=new_key())
    usage = usage_for(user, status="error", http_status=502, error_code="UPSTREAM_ERROR")

    await billing.release(sessions, hold_id=held.hold_id, usage=usage)

    assert await billing.get_balance(sessions, user) == billing.Balance(user, 10 * USD, 0)
    assert (await hold_row(sessions, held.hold_id)).status == "released"
    log = await usage_log(sessions, usage.request_id)
    assert log is not None and (log.cost_nanos, log.status, log.error_code) == (0, "error", "UPSTREAM_ERROR")
    [day] = await daily_rows(sessions, user)
    assert (day.requests, day.errors, day.cost_nanos) == (1, 1, 0)
    assert len(await billing.list_transactions(sessions, user)) == 1
    assert await billing.verify_invariants(sessions, user) == []


async def test_releasing_twice_is_a_no_op(sessions: SessionFactory, user: int) -> None:
    await fund(sessions, user, 10 * USD)
    held = await billing.hold(sessions, user_id=user, amount_nanos=4 * USD, idempotency_key=new_key())
    await billing.hold(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())

    await billing.release(sessions, hold_id=held.hold_id)
    await billing.release(sessions, hold_id=held.hold_id, usage=usage_for(user))

    assert (await billing.get_balance(sessions, user)).reserved_nanos == USD
    assert await daily_rows(sessions, user) == []  # the second release logged nothing
    assert await billing.verify_invariants(sessions, user) == []


async def test_releasing_a_settled_hold_is_a_conflict(sessions: SessionFactory, user: int) -> None:
    await fund(sessions, user, 10 * USD)
    held = await billing.hold(sessions, user_id=user, amount_nanos=4 * USD, idempotency_key=new_key())
    await billing.settle(sessions, hold_id=held.hold_id, cost_nanos=USD, usage=usage_for(user))

    with pytest.raises(Conflict):
        await billing.release(sessions, hold_id=held.hold_id)
    assert await billing.get_balance(sessions, user) == billing.Balance(user, 9 * USD, 0)


async def test_releasing_an_unknown_hold_is_not_found(sessions: SessionFactory) -> None:
    with pytest.raises(NotFound):
        await billing.release(sessions, hold_id="hold_missing")


async def test_a_release_whose_usage_names_another_user_is_refused_whole(
    sessions: SessionFactory, user: int, make_user: MakeUser
) -> None:
    other = await make_user(sessions)
    await fund(sessions, user, USD)
    held = await billing.hold(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())

    with pytest.raises(InvalidRequest):
        await billing.release(sessions, hold_id=held.hold_id, usage=usage_for(other))

    assert (await hold_row(sessions, held.hold_id)).status == "active"
    assert (await billing.get_balance(sessions, user)).reserved_nanos == USD


async def test_a_checkpoint_records_the_highest_provisional_cost_in_the_hold(
    sessions: SessionFactory, user: int
) -> None:
    await fund(sessions, user, 10 * USD)
    held = await billing.hold(
        sessions,
        user_id=user,
        amount_nanos=4 * USD,
        idempotency_key=new_key(),
        meta={"model": "m", "endpoint": "e"},
    )

    await billing.checkpoint(sessions, hold_id=held.hold_id, provisional_cost_nanos=USD)
    await billing.checkpoint(sessions, hold_id=held.hold_id, provisional_cost_nanos=3 * USD)
    await billing.checkpoint(sessions, hold_id=held.hold_id, provisional_cost_nanos=2 * USD)  # arrived late

    row = await hold_row(sessions, held.hold_id)
    assert row.meta == {"model": "m", "endpoint": "e", "provisional_cost_nanos": 3 * USD}
    assert row.expires_at == held.expires_at  # no extension asked for
    assert (await billing.get_balance(sessions, user)).reserved_nanos == 4 * USD  # money untouched


async def test_a_checkpoint_can_keep_a_long_stream_from_expiring(sessions: SessionFactory, user: int) -> None:
    await fund(sessions, user, USD)
    held = await billing.hold(
        sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key(), ttl_seconds=5
    )

    await billing.checkpoint(sessions, hold_id=held.hold_id, provisional_cost_nanos=1, extend_seconds=600)

    row = await hold_row(sessions, held.hold_id)
    assert row.meta == {"provisional_cost_nanos": 1}
    assert row.expires_at >= held.expires_at + timedelta(seconds=590)


async def test_a_checkpoint_after_the_hold_ended_is_a_no_op_and_an_unknown_hold_is_not_found(
    sessions: SessionFactory, user: int
) -> None:
    await fund(sessions, user, USD)
    held = await billing.hold(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
    await billing.release(sessions, hold_id=held.hold_id)

    await billing.checkpoint(sessions, hold_id=held.hold_id, provisional_cost_nanos=5)

    assert (await hold_row(sessions, held.hold_id)).meta is None
    with pytest.raises(NotFound):
        await billing.checkpoint(sessions, hold_id="hold_missing", provisional_cost_nanos=5)
    with pytest.raises(InvalidRequest):
        await billing.checkpoint(sessions, hold_id=held.hold_id, provisional_cost_nanos=-5)
