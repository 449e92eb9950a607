"""Group commit on PostgreSQL (``billing/hot/_pg_group``): concurrent holds and settles share
one round trip and one commit, each caller is answered only once its rows are durable, a faulty
call in a round fails alone, two processes' rounds over many accounts never deadlock, and a
caller that leaves does not take its settlement with it."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import select

from modelsnest import billing
from modelsnest.billing.hot import PostgresHotLedger, create_hot_ledger
from modelsnest.billing.hot.postgres import connect_args
from modelsnest.db.models import CreditTransaction
from modelsnest.errors import NotFound
from modelsnest.runtime import Runtime
from tests.billing.helpers import MakeApiToken, MakeUser, new_key, usage_for

pytestmark = pytest.mark.postgres
PRICE = 1_000_003


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


def new_ledger(runtime: Runtime) -> PostgresHotLedger:
    ledger = create_hot_ledger(runtime.settings.async_database_url, runtime.sessions, pool_size=12)
    assert isinstance(ledger, PostgresHotLedger)
    return ledger


@pytest.fixture
async def hot(runtime: Runtime) -> AsyncIterator[PostgresHotLedger]:
    ledger = new_ledger(runtime)
    yield ledger
    await ledger.close()


async def funded_user(runtime: Runtime, make_user: MakeUser, credits: int) -> int:
    user = await make_user(runtime.sessions)
    await billing.top_up(runtime.sessions, user_id=user, amount_nanos=credits, idempotency_key=new_key())
    return user


async def test_concurrent_settles_share_commits_and_each_is_durable_when_answered(
    runtime: Runtime, hot: PostgresHotLedger, make_user: MakeUser, make_api_token: MakeApiToken
) -> None:
    user = await funded_user(runtime, make_user, 1000 * PRICE)
    token = await make_api_token(runtime.sessions, user)
    held = await asyncio.gather(
        *(
            hot.hold(user_id=user, amount_nanos=PRICE, idempotency_key=new_key(), api_token_id=token)
            for _ in range(100)
        )
    )
    assert hot._holds.rounds < hot._holds.calls == 100
    observer = await asyncpg.connect(connect_args(runtime.settings.async_database_url)[0])
    looking = asyncio.Lock()

    async def settle_and_look(hold_id: str, cost: int) -> None:
        result = await hot.settle(hold_id=hold_id, cost_nanos=cost, usage=usage_for(user, token))
        # Another connection sees the ledger row the moment the caller has its answer.
        async with looking:
            seen = await observer.fetchval(
                "SELECT amount_nanos FROM credit_transactions WHERE id = $1", result.transaction_id
            )
        assert seen == -cost

    try:
        await asyncio.gather(*(settle_and_look(h.hold_id, PRICE - i) for i, h in enumerate(held)))
    finally:
        await observer.close()

    assert hot._settles.rounds < hot._settles.calls == 100, "settles were not grouped"
    assert await billing.verify_invariants(runtime.sessions, user) == []
    credits = await billing.get_balance(runtime.sessions, user)
    assert credits.balance_nanos == 1000 * PRICE - sum(PRICE - i for i in range(100))
    assert credits.reserved_nanos == 0


async def test_a_faulty_call_fails_alone_and_the_rest_of_its_round_is_written(
    runtime: Runtime, hot: PostgresHotLedger, make_user: MakeUser
) -> None:
    user = await funded_user(runtime, make_user, 10 * PRICE)
    replayed_key = new_key()
    first = await hot.hold(user_id=user, amount_nanos=PRICE, idempotency_key=replayed_key)
    rounds_before = hot._holds.rounds

    results = await asyncio.gather(
        hot.hold(user_id=user, amount_nanos=PRICE, idempotency_key=new_key()),
        hot.hold(user_id=user, amount_nanos=PRICE, idempotency_key=new_key(), api_token_id=987_654_321),
        hot.hold(user_id=user, amount_nanos=PRICE, idempotency_key=replayed_key),
        hot.hold(user_id=user, amount_nanos=PRICE, idempotency_key=new_key()),
        return_exceptions=True,
    )

    assert hot._holds.rounds == rounds_before + 1, "the four holds were meant to share one round"
    fresh, unknown_key, replay, other = results
    assert isinstance(fresh, billing.HoldResult) and isinstance(other, billing.HoldResult)
    assert isinstance(unknown_key, NotFound)
    assert isinstance(replay, billing.HoldResult) and replay.hold_id == first.hold_id
    credits = await billing.get_balance(runtime.sessions, user)
    assert credits.reserved_nanos == 3 * PRICE  # first, fresh and other: nothing of the faulty one
    assert await billing.verify_invariants(runtime.sessions, user) == []


async def test_two_processes_rounds_over_many_accounts_never_deadlock(
    runtime: Runtime, make_user: MakeUser
) -> None:
    users = [await funded_user(runtime, make_user, 100 * PRICE) for _ in range(24)]
    ledgers = [new_ledger(runtime), new_ledger(runtime)]
    observer = await asyncpg.connect(connect_args(runtime.settings.async_database_url)[0])
    deadlocks = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    before = await observer.fetchval(deadlocks)
    rng = random.Random(7)

    async def request(ledger: PostgresHotLedger, user: int) -> int:
        hold = await ledger.hold(user_id=user, amount_nanos=PRICE, idempotency_key=new_key())
        cost = rng.randrange(1, PRICE)
        await ledger.settle(hold_id=hold.hold_id, cost_nanos=cost, usage=usage_for(user))
        return cost

    try:
        jobs = [(ledgers[i % 2], rng.choice(users)) for i in range(400)]
        costs = await asyncio.gather(*(request(ledger, user) for ledger, user in jobs))
        after = await observer.fetchval(deadlocks)
    finally:
        await observer.close()
        for ledger in ledgers:
            await ledger.close()

    assert after == before, "a round deadlocked with the other process's"
    assert all(ledger._settles.rounds < ledger._settles.calls for ledger in ledgers)
    spent: dict[int, int] = {}
    for (_, user), cost in zip(jobs, costs, strict=True):
        spent[user] = spent.get(user, 0) + cost
    for user in users:
        assert await billing.verify_invariants(runtime.sessions, user) == []
        credits = await billing.get_balance(runtime.sessions, user)
        assert (credits.balance_nanos, credits.reserved_nanos) == (100 * PRICE - spent.get(user, 0), 0)


async def test_a_caller_that_leaves_does_not_take_its_settlement_with_it(
    runtime: Runtime, hot: PostgresHotLedger, make_user: MakeUser
) -> None:
    user = await funded_user(runtime, make_user, 10 * PRICE)
    hold = await hot.hold(user_id=user, amount_nanos=PRICE, idempotency_key=new_key())
    settling = asyncio.create_task(
        hot.settle(hold_id=hold.hold_id, cost_nanos=PRICE // 2, usage=usage_for(user))
    )
    await asyncio.sleep(0)  # queued for the next round
    settling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await settling
    await hot.close()  # waits for the round in flight

    async with runtime.sessions() as session:
        entries = (
            await session.scalars(
                select(CreditTransaction.amount_nanos).where(CreditTransaction.user_id == user)
            )
        ).all()
    assert sorted(entries) == [-(PRICE // 2), 10 * PRICE]
    assert await billing.verify_invariants(runtime.sessions, user) == []
