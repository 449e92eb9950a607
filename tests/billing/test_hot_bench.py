"""Micro-benchmark: mean latency of hold and settle, hot ledger vs the reference functions, on
each database; sequential and 64-way concurrent. Prints figures, asserts no timings (only that
every call succeeded and the ledger is exact afterwards). Run with ``-s`` to see them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from modelsnest import billing
from modelsnest.billing.hot import HotLedger, ReferenceLedger, create_hot_ledger
from modelsnest.db.engine import SessionFactory
from modelsnest.runtime import Runtime
from tests.billing.helpers import USD, MakeApiToken, MakeUser, claim_record, new_key, usage_for

SEQUENTIAL = 300
WORKERS = 64
ROUNDS = {"hot": 8, "reference": 2}  # per worker; the reference is slow on SQLite
USERS = 8
HOLD, COST = 2_000_003, 1_234_567
RATE, PACED_SECONDS = 500, 2.0  # requests/s of one of 2 processes at 1000 requests/s
ANSWER = b'{"id":"chatcmpl-1","object":"chat.completion","choices":[]}' * 16  # ~1 KB answer

pytestmark = pytest.mark.slow


@pytest.fixture
async def hot(runtime: Runtime) -> AsyncIterator[HotLedger]:
    ledger = create_hot_ledger(runtime.settings.async_database_url, runtime.sessions, pool_size=10)
    yield ledger
    await ledger.close()


@dataclass
class Timings:
    hold: list[float] = field(default_factory=list)
    settle: list[float] = field(default_factory=list)
    wall: float = 0.0

    def mean_us(self, which: str) -> float:
        values: list[float] = getattr(self, which)
        return sum(values) / len(values) * 1e6

    def p99_us(self, which: str) -> float:
        values: list[float] = sorted(getattr(self, which))
        return values[int(len(values) * 0.99)] * 1e6

    @property
    def pairs_per_second(self) -> float:
        return len(self.settle) / self.wall


async def pair(
    ledger: HotLedger, user: int, token: int, timings: Timings, reply: billing.StoredReply | None = None
) -> None:
    """One request's ledger work: hold, then settle (storing ``reply`` when given)."""
    t0 = time.perf_counter()
    held = await ledger.hold(
        user_id=user,
        amount_nanos=HOLD,
        idempotency_key=new_key("bench"),
        api_token_id=token,
        meta={"model": "test-model", "endpoint": "chat"},
    )
    t1 = time.perf_counter()
    await ledger.settle(hold_id=held.hold_id, cost_nanos=COST, usage=usage_for(user, token), reply=reply)
    t2 = time.perf_counter()
    timings.hold.append(t1 - t0)
    timings.settle.append(t2 - t1)


async def sequential(ledger: HotLedger, user: int, token: int) -> Timings:
    timings = Timings()
    started = time.perf_counter()
    for _ in range(SEQUENTIAL):
        await pair(ledger, user, token, timings)
    timings.wall = time.perf_counter() - started
    return timings


async def sequential_with_replies(
    ledger: HotLedger, sessions: SessionFactory, user: int, token: int
) -> Timings:
    """As ``sequential``, each request with an Idempotency-Key: its record is claimed before
    the hold (not timed, as the gateway's claim is not ledger work) and settle stores the answer."""
    timings = Timings()
    for _ in range(SEQUENTIAL):
        record = await claim_record(sessions, token)
        reply = billing.StoredReply(record, 200, ANSWER, "application/json", {"x-modelsnest-cost": "0.0012"})
        await pair(ledger, user, token, timings, reply)
    return timings


async def concurrent(ledger: HotLedger, users: list[int], tokens: list[int], rounds: int) -> Timings:
    timings = Timings()

    async def worker(i: int) -> None:
        for _ in range(rounds):
            await pair(ledger, users[i % len(users)], tokens[i % len(users)], timings)

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(WORKERS)))
    timings.wall = time.perf_counter() - started
    return timings


async def paced(ledger: HotLedger, users: list[int], tokens: list[int]) -> Timings:
    """Open loop: a new request every 1/RATE s whatever the previous ones are doing, as a
    gateway process at its share of the target load (1000 requests/s over 2 processes)."""
    timings = Timings()
    tasks = []
    started = time.perf_counter()
    for i in range(int(RATE * PACED_SECONDS)):
        delay = started + i / RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(
            asyncio.create_task(pair(ledger, users[i % len(users)], tokens[i % len(users)], timings))
        )
    await asyncio.gather(*tasks)
    timings.wall = time.perf_counter() - started
    return timings


async def test_hot_ledger_benchmark(
    runtime: Runtime, hot: HotLedger, make_user: MakeUser, make_api_token: MakeApiToken
) -> None:
    sessions = runtime.sessions
    name = runtime.engine.dialect.name
    users = [await make_user(sessions) for _ in range(USERS)]
    tokens = [await make_api_token(sessions, u) for u in users]
    for u in users:
        await billing.top_up(sessions, user_id=u, amount_nanos=100 * USD, idempotency_key=new_key())
    ledgers: dict[str, HotLedger] = {"hot": hot, "reference": ReferenceLedger(sessions)}
    for ledger in ledgers.values():  # warm up: connections, prepared statements, caches
        for _ in range(5):
            await pair(ledger, users[0], tokens[0], Timings())

    pace = await paced(hot, users, tokens)  # first: steady state, not the aftermath of saturation
    seq = {kind: await sequential(ledger, users[0], tokens[0]) for kind, ledger in ledgers.items()}
    answered = {
        kind: await sequential_with_replies(ledger, sessions, users[1], tokens[1])
        for kind, ledger in ledgers.items()
    }
    par = {kind: await concurrent(ledger, users, tokens, ROUNDS[kind]) for kind, ledger in ledgers.items()}

    h, r = seq["hot"], seq["reference"]
    print(
        f"\nhot ledger {name}, {SEQUENTIAL} sequential: hold {h.mean_us('hold'):.0f} us, "
        f"settle {h.mean_us('settle'):.0f} us (reference {r.mean_us('hold'):.0f}/{r.mean_us('settle'):.0f} us)"
    )
    h, r = answered["hot"], answered["reference"]
    print(
        f"hot ledger {name}, {SEQUENTIAL} sequential with a stored reply: hold {h.mean_us('hold'):.0f} us, "
        f"settle {h.mean_us('settle'):.0f} us (reference {r.mean_us('hold'):.0f}/{r.mean_us('settle'):.0f} us)"
    )
    h, r = par["hot"], par["reference"]
    print(
        f"hot ledger {name}, {WORKERS}-way concurrent: hold {h.mean_us('hold'):.0f} us, "
        f"settle {h.mean_us('settle'):.0f} us, {h.pairs_per_second:.0f} hold+settle/s "
        f"(reference {r.mean_us('hold'):.0f}/{r.mean_us('settle'):.0f} us, {r.pairs_per_second:.0f}/s)"
    )
    print(
        f"hot ledger {name}, {RATE}/s paced for {PACED_SECONDS:.0f} s: hold {pace.mean_us('hold'):.0f} us "
        f"(p99 {pace.p99_us('hold'):.0f}), settle {pace.mean_us('settle'):.0f} us (p99 {pace.p99_us('settle'):.0f})"
    )
    assert await billing.verify_invariants(sessions) == []
    for u in users:
        assert (await billing.get_balance(sessions, u)).reserved_nanos == 0
