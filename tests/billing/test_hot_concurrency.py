"""The hot ledger under concurrency keeps every money invariant (DESIGN §2): 200 holds racing
for credits that cover exactly 50; 300 interleaved hold → settle / release requests with random
costs (some above the hold, some colliding on a request id) mixed with reference top-ups and
reference settles; and one hold finished by several callers at once."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from modelsnest import billing
from modelsnest.billing.hot import (
    HotLedger,
    PostgresHotLedger,
    ReferenceLedger,
    SqliteHotLedger,
    create_hot_ledger,
)
from modelsnest.errors import Conflict, InsufficientCredits
from modelsnest.runtime import Runtime
from tests.billing.helpers import MakeApiToken, MakeUser, new_key, usage_for

ATTEMPTS, FITS = 200, 50
PRICE = 1_000_003


@pytest.fixture
async def hot(runtime: Runtime) -> AsyncIterator[HotLedger]:
    ledger = create_hot_ledger(runtime.settings.async_database_url, runtime.sessions, pool_size=20)
    yield ledger
    await ledger.close()


async def test_200_concurrent_hot_holds_against_credits_for_50(
    runtime: Runtime, hot: HotLedger, make_user: MakeUser
) -> None:
    sessions = runtime.sessions
    user = await make_user(sessions)
    await billing.top_up(sessions, user_id=user, amount_nanos=FITS * PRICE, idempotency_key=new_key())

    started = time.perf_counter()
    results = await asyncio.gather(
        *(hot.hold(user_id=user, amount_nanos=PRICE, idempotency_key=new_key()) for _ in range(ATTEMPTS)),
        return_exceptions=True,
    )
    elapsed = time.perf_counter() - started

    ok = [r for r in results if isinstance(r, billing.HoldResult)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    print(f"hot holds: {ATTEMPTS} attempted, {len(ok)} ok, {len(refused)} refused in {elapsed * 1000:.0f} ms")
    assert (len(ok), len(refused)) == (FITS, ATTEMPTS - FITS), [
        r for r in results if isinstance(r, BaseException)
    ][:3]
    assert len({r.hold_id for r in ok}) == FITS
    assert await billing.verify_invariants(sessions, user) == []
    balance = await billing.get_balance(sessions, user)
    assert (balance.reserved_nanos, balance.available_nanos) == (FITS * PRICE, 0)
    if isinstance(hot, SqliteHotLedger):  # group commit: far fewer transactions than jobs
        assert hot.writer.groups < hot.writer.jobs


async def test_300_interleaved_requests_keep_the_ledger_exact(
    runtime: Runtime, hot: HotLedger, make_user: MakeUser, make_api_token: MakeApiToken
) -> None:
    sessions = runtime.sessions
    reference = ReferenceLedger(sessions)
    users = [await make_user(sessions) for _ in range(3)]
    tokens = {u: await make_api_token(sessions, u) for u in users}
    start = 40 * PRICE  # not enough for everyone: some requests get a 402
    for u in users:
        await billing.top_up(sessions, user_id=u, amount_nanos=start, idempotency_key=new_key())
    rng = random.Random(20261125)
    charged = {u: 0 for u in users}
    topped = {u: 0 for u in users}
    outcomes: dict[str, int] = {}

    def count(name: str) -> None:
        outcomes[name] = outcomes.get(name, 0) + 1

    async def request(i: int) -> None:
        user = users[i % len(users)]
        ledger = reference if i % 10 == 0 else hot  # a few requests take the reference path end to end
        amount = rng.choice([0, PRICE, 2 * PRICE, 3 * PRICE])
        try:
            held = await ledger.hold(
                user_id=user, amount_nanos=amount, idempotency_key=new_key(), api_token_id=tokens[user]
            )
        except InsufficientCredits:
            return count("402")
        await asyncio.sleep(rng.random() / 200)  # the upstream call
        usage = usage_for(user, tokens[user], prompt_tokens=rng.randrange(1000))
        roll = rng.random()
        if roll < 0.15:
            await ledger.release(hold_id=held.hold_id, usage=usage if roll < 0.1 else None)
            return count("released")
        if roll < 0.2:  # a request id that is already logged: Conflict, the hold stays active
            used = usage_for(user, tokens[user], request_id="shared-request-id")
            try:
                await ledger.settle(hold_id=held.hold_id, cost_nanos=amount // 2, usage=used)
                count("settled")
                charged[user] += amount // 2
                return None
            except Conflict:
                count("collision")
                await ledger.release(hold_id=held.hold_id)
                return None
        cost = rng.choice([0, amount // 3, amount, amount + PRICE // 2])  # the last: above the hold
        result = await ledger.settle(hold_id=held.hold_id, cost_nanos=cost, usage=usage)
        assert not result.replayed
        if cost <= amount:
            assert result.charged_nanos == cost
        else:  # above the hold: as much of the excess as is available, never more than the cost
            assert result.charged_nanos <= cost, (amount, cost, result)
        charged[user] += result.charged_nanos
        count("settled")

    async def top_ups() -> None:
        for _ in range(10):
            await asyncio.sleep(0.005)
            user = rng.choice(users)
            await billing.top_up(sessions, user_id=user, amount_nanos=3 * PRICE, idempotency_key=new_key())
            topped[user] += 3 * PRICE

    await asyncio.gather(*(request(i) for i in range(300)), top_ups())

    print(f"300 interleaved requests: {dict(sorted(outcomes.items()))}")
    assert (
        outcomes.get("settled", 0) > 100 and outcomes.get("402", 0) > 0 and outcomes.get("collision", 0) > 0
    )
    assert await billing.verify_invariants(sessions) == []
    for user in users:
        balance = await billing.get_balance(sessions, user)
        assert balance.reserved_nanos == 0
        assert balance.balance_nanos == start + topped[user] - charged[user]


@pytest.mark.parametrize("rival", ["hot", "reference"])
async def test_one_hold_finished_by_many_at_once_is_charged_once(
    runtime: Runtime, hot: HotLedger, make_user: MakeUser, rival: str
) -> None:
    sessions = runtime.sessions
    other = hot if rival == "hot" else ReferenceLedger(sessions)
    user = await make_user(sessions)
    await billing.top_up(sessions, user_id=user, amount_nanos=100 * PRICE, idempotency_key=new_key())
    for _ in range(5):
        held = await hot.hold(user_id=user, amount_nanos=PRICE, idempotency_key=new_key())
        usage = usage_for(user)
        calls: list[Coroutine[Any, Any, object]] = [
            hot.settle(hold_id=held.hold_id, cost_nanos=PRICE - 1, usage=usage) for _ in range(3)
        ]
        calls += [other.settle(hold_id=held.hold_id, cost_nanos=PRICE - 1, usage=usage) for _ in range(3)]
        calls += [other.release(hold_id=held.hold_id), hot.release(hold_id=held.hold_id)]
        results = await asyncio.gather(*calls, return_exceptions=True)
        settles = [r for r in results if isinstance(r, billing.SettleResult)]
        unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, Conflict)]
        assert unexpected == []
        fresh = [r for r in settles if not r.replayed]
        assert len(fresh) <= 1
        if fresh:  # everyone who settled agrees on the one charge
            assert {(r.transaction_id, r.charged_nanos) for r in settles} == {
                (fresh[0].transaction_id, PRICE - 1)
            }
    assert await billing.verify_invariants(sessions, user) == []
    assert (await billing.get_balance(sessions, user)).reserved_nanos == 0


@pytest.mark.postgres
async def test_on_postgresql_only_holds_skip_waiting_for_their_wal_flush(
    runtime: Runtime, hot: HotLedger
) -> None:
    """A hold lost in a crash charged nothing, so it commits asynchronously; a settlement or a
    release always waits until it is durable."""
    if not isinstance(hot, PostgresHotLedger):
        pytest.skip("PostgreSQL only")
    holds = await hot._get_hold_pool()
    settles = await hot._get_pool()
    assert await holds.fetchval("SHOW synchronous_commit") == "off"
    assert await settles.fetchval("SHOW synchronous_commit") == "on"
