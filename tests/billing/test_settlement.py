"""Settlement: the exact charge, the usage row, the rollup and the key's spend in one
transaction (billing/settlement.py)."""

from __future__ import annotations

from typing import Any

import pytest

from modelsnest import billing
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from tests.billing.helpers import (
    USD,
    MakeUser,
    daily_rows,
    hold_row,
    new_key,
    token_spent,
    usage_for,
    usage_log,
)


async def funded_hold(sessions: SessionFactory, user: int, *, balance: int, held: int, **kwargs: Any) -> str:
    await billing.top_up(sessions, user_id=user, amount_nanos=balance, idempotency_key=new_key())
    result = await billing.hold(
        sessions, user_id=user, amount_nanos=held, idempotency_key=new_key(), **kwargs
    )
    return result.hold_id


async def test_settling_charges_the_cost_and_records_everything_in_one_go(
    sessions: SessionFactory, user: int, api_token: int
) -> None:
    hold_id = await funded_hold(sessions, user, balance=10 * USD, held=4 * USD, api_token_id=api_token)
    usage = usage_for(user, api_token, prompt_tokens=100, completion_tokens=50, latency_ms=120, streamed=True)

    result = await billing.settle(sessions, hold_id=hold_id, cost_nanos=1_234_567, usage=usage)

    assert (result.hold_id, result.charged_nanos, result.replayed) == (hold_id, 1_234_567, False)
    assert result.balance_after_nanos == 10 * USD - 1_234_567
    assert await billing.get_balance(sessions, user) == billing.Balance(user, 10 * USD - 1_234_567, 0)
    row = (await billing.list_transactions(sessions, user))[0]
    assert (row.id, row.type, row.amount_nanos, row.balance_after_nanos) == (
        result.transaction_id,
        "usage",
        -1_234_567,
        result.balance_after_nanos,
    )
    assert (row.reference_type, row.reference_id) == ("request", usage.request_id)
    log = await usage_log(sessions, usage.request_id)
    assert log is not None
    assert (log.cost_nanos, log.prompt_tokens, log.completion_tokens, log.api_token_id) == (
        1_234_567,
        100,
        50,
        api_token,
    )
    [day] = await daily_rows(sessions, user)
    assert (
        day.api_token_id,
        day.model_slug,
        day.requests,
        day.errors,
        day.prompt_tokens,
        day.cost_nanos,
    ) == (
        api_token,
        "test-model",
        1,
        0,
        100,
        1_234_567,
    )
    assert await token_spent(sessions, api_token) == 1_234_567
    hold = await hold_row(sessions, hold_id)
    assert (hold.status, hold.settled_nanos, hold.transaction_id) == (
        "settled",
        1_234_567,
        result.transaction_id,
    )
    assert await billing.verify_invariants(sessions, user) == []


async def test_the_daily_rollup_adds_up_requests_of_the_same_day_key_and_model(
    sessions: SessionFactory, user: int, api_token: int
) -> None:
    await billing.top_up(sessions, user_id=user, amount_nanos=10 * USD, idempotency_key=new_key())
    for cost, status in [(100, "success"), (0, "error"), (250, "partial")]:
        held = await billing.hold(sessions, user_id=user, amount_nanos=USD, idempotency_key=new_key())
        usage = usage_for(user, api_token, status=status, units=2, unit_type="image")
        await billing.settle(sessions, hold_id=held.hold_id, cost_nanos=cost, usage=usage)
    await billing.record_usage(sessions, usage_for(user, None, status="error"))

    days = {row.api_token_id: row for row in await daily_rows(sessions, user)}
    with_key, without_key = days[api_token], days[0]
    assert (
        with_key.requests,
        with_key.errors,
        with_key.units,
        with_key.prompt_tokens,
        with_key.cost_nanos,
    ) == (
        3,
        1,
        6,
        30,
        350,
    )
    assert (without_key.requests, without_key.errors, without_key.cost_nanos) == (1, 1, 0)
    assert await token_spent(sessions, api_token) == 350
    assert await billing.verify_invariants(sessions, user) == []


async def test_a_zero_cost_writes_no_ledger_row_but_logs_the_request(
    sessions: SessionFactory, user: int
) -> None:
    hold_id = await funded_hold(sessions, user, balance=USD, held=USD)
    usage = usage_for(user, status="error", error_code="UPSTREAM_ERROR")

    result = await billing.settle(sessions, hold_id=hold_id, cost_nanos=0, usage=usage)

    assert (result.transaction_id, result.charged_nanos, result.balance_after_nanos) == (None, 0, USD)
    assert await billing.get_balance(sessions, user) == billing.Balance(user, USD, 0)
    assert [r.type for r in await billing.list_transactions(sessions, user)] == ["topup"]
    log = await usage_log(sessions, usage.request_id)
    assert log is not None and log.cost_nanos == 0
    assert (await hold_row(sessions, hold_id)).settled_nanos == 0
    assert await billing.verify_invariants(sessions, user) == []


async def test_a_cost_above_the_hold_takes_the_excess_from_available_credits(
    sessions: SessionFactory, user: int
) -> None:
    hold_id = await funded_hold(sessions, user, balance=10 * USD, held=USD)

    result = await billing.settle(sessions, hold_id=hold_id, cost_nanos=3 * USD, usage=usage_for(user))

    assert (result.charged_nanos, result.balance_after_nanos) == (3 * USD, 7 * USD)
    assert await billing.verify_invariants(sessions, user) == []


async def test_a_cost_above_hold_and_available_is_capped_and_the_shortfall_recorded(
    sessions: SessionFactory, user: int
) -> None:
    hold_id = await funded_hold(sessions, user, balance=10 * USD, held=2 * USD)
    other = await billing.hold(sessions, user_id=user, amount_nanos=5 * USD, idempotency_key=new_key())
    usage = usage_for(user, meta={"finish_reason": "length"})

    result = await billing.settle(sessions, hold_id=hold_id, cost_nanos=9 * USD, usage=usage)

    # 2 held + 3 available = 5 charged; the other hold's 5 stay reserved and untouched.
    assert (result.charged_nanos, result.balance_after_nanos) == (5 * USD, 5 * USD)
    balance = await billing.get_balance(sessions, user)
    assert (balance.reserved_nanos, balance.available_nanos) == (5 * USD, 0)
    log = await usage_log(sessions, usage.request_id)
    assert log is not None and log.cost_nanos == 5 * USD
    assert log.meta == {
        "finish_reason": "length",
        "requested_cost_nanos": 9 * USD,
        "shortfall_nanos": 4 * USD,
    }
    assert (await hold_row(sessions, hold_id)).settled_nanos == 5 * USD
    settled_other = await billing.settle(
        sessions, hold_id=other.hold_id, cost_nanos=5 * USD, usage=usage_for(user)
    )
    assert settled_other.balance_after_nanos == 0
    assert await billing.verify_invariants(sessions, user) == []


async def test_settling_twice_returns_the_first_result_and_writes_nothing(
    sessions: SessionFactory, user: int, api_token: int
) -> None:
    hold_id = await funded_hold(sessions, user, balance=10 * USD, held=USD)
    usage = usage_for(user, api_token)
    first = await billing.settle(sessions, hold_id=hold_id, cost_nanos=500, usage=usage)

    again = await billing.settle(sessions, hold_id=hold_id, cost_nanos=700, usage=usage_for(user, api_token))

    assert again.replayed
    assert (again.transaction_id, again.charged_nanos, again.balance_after_nanos) == (
        first.transaction_id,
        500,
        first.balance_after_nanos,
    )
    assert (await billing.get_balance(sessions, user)).balance_nanos == 10 * USD - 500
    assert len(await billing.list_transactions(sessions, user)) == 2
    assert (await daily_rows(sessions, user))[0].requests == 1
    assert await token_spent(sessions, api_token) == 500


async def test_settling_a_released_hold_is_a_conflict(sessions: SessionFactory, user: int) -> None:
    hold_id = await funded_hold(sessions, user, balance=USD, held=USD)
    await billing.release(sessions, hold_id=hold_id)

    with pytest.raises(Conflict):
        await billing.settle(sessions, hold_id=hold_id, cost_nanos=1, usage=usage_for(user))
    assert await billing.get_balance(sessions, user) == billing.Balance(user, USD, 0)


async def test_settling_an_unknown_hold_is_not_found(sessions: SessionFactory, user: int) -> None:
    with pytest.raises(NotFound):
        await billing.settle(sessions, hold_id="hold_missing", cost_nanos=1, usage=usage_for(user))


@pytest.mark.parametrize("cost", [-1, 0.5, True, None])
async def test_a_cost_must_be_a_non_negative_int(sessions: SessionFactory, user: int, cost: Any) -> None:
    hold_id = await funded_hold(sessions, user, balance=USD, held=USD)
    with pytest.raises(InvalidRequest):
        await billing.settle(sessions, hold_id=hold_id, cost_nanos=cost, usage=usage_for(user))
    assert (await hold_row(sessions, hold_id)).status == "active"


async def test_a_settlement_that_fails_midway_leaves_no_trace(
    sessions: SessionFactory, user: int, make_user: MakeUser
) -> None:
    """The usage row is written after the money moved; its failure must undo the money too."""
    hold_id = await funded_hold(sessions, user, balance=10 * USD, held=USD)
    taken = usage_for(user)
    await billing.record_usage(sessions, taken)  # the request id is now used

    with pytest.raises(Conflict):
        await billing.settle(sessions, hold_id=hold_id, cost_nanos=USD // 2, usage=taken)

    assert await billing.get_balance(sessions, user) == billing.Balance(user, 10 * USD, USD)
    hold = await hold_row(sessions, hold_id)
    assert (hold.status, hold.settled_nanos) == ("active", None)
    assert len(await billing.list_transactions(sessions, user)) == 1
    with pytest.raises(InvalidRequest):  # and a usage record of another user is refused whole
        await billing.settle(
            sessions, hold_id=hold_id, cost_nanos=1, usage=usage_for(await make_user(sessions))
        )
    assert await billing.verify_invariants(sessions, user) == []
