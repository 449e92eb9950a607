"""No amount of concurrency spends credits that are not there (DESIGN §2).

200 holds race for a balance that covers exactly 50 of them: from one process through a pool
big enough for real parallelism (both databases), and from two OS processes, each with its
own engine, against one PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from modelsnest import billing
from modelsnest.db.engine import SessionFactory, create_engine, create_session_factory
from modelsnest.errors import InsufficientCredits
from tests.billing.helpers import MakeUser, new_key, usage_for

ATTEMPTS, FITS = 200, 50
PRICE = 1_000_003  # an odd price: no round numbers to hide an off-by-one
REPO = Path(__file__).resolve().parents[2]


async def assert_exactly_fits_were_reserved(sessions: SessionFactory, user: int) -> None:
    assert await billing.verify_invariants(sessions, user) == []
    balance = await billing.get_balance(sessions, user)
    assert (balance.reserved_nanos, balance.available_nanos) == (FITS * PRICE, 0)


async def test_200_concurrent_holds_against_credits_for_50(database_url: str, make_user: MakeUser) -> None:
    engine = create_engine(database_url, pool_size=25)  # up to 50 connections on PostgreSQL
    try:
        sessions = create_session_factory(engine)
        user = await make_user(sessions)
        await billing.top_up(sessions, user_id=user, amount_nanos=FITS * PRICE, idempotency_key=new_key())

        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                billing.hold(sessions, user_id=user, amount_nanos=PRICE, idempotency_key=new_key())
                for _ in range(ATTEMPTS)
            ),
            return_exceptions=True,
        )
        elapsed = time.perf_counter() - started

        ok = [r for r in results if isinstance(r, billing.HoldResult)]
        refused = [r for r in results if isinstance(r, InsufficientCredits)]
        print(
            f"holds: {ATTEMPTS} attempted, {len(ok)} ok, {len(refused)} refused "
            f"in {elapsed:.2f}s on {engine.dialect.name}"
        )
        assert (len(ok), len(refused)) == (FITS, ATTEMPTS - FITS), [
            r for r in results if isinstance(r, BaseException)
        ][:3]
        assert len({r.hold_id for r in ok}) == FITS
        await assert_exactly_fits_were_reserved(sessions, user)
    finally:
        await engine.dispose()


async def test_two_processes_racing_for_the_same_credits_get_exactly_50_holds(
    postgres_url: str, make_user: MakeUser
) -> None:
    engine = create_engine(postgres_url, pool_size=2)
    workers: list[asyncio.subprocess.Process] = []
    try:
        sessions = create_session_factory(engine)
        user = await make_user(sessions)
        await billing.top_up(sessions, user_id=user, amount_nanos=FITS * PRICE, idempotency_key=new_key())
        for _ in range(2):
            workers.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "tests.billing._hold_worker",
                    postgres_url,
                    str(user),
                    str(ATTEMPTS // 2),
                    str(PRICE),
                    cwd=REPO,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
            )
        for worker in workers:  # the barrier: both pools connected before either starts
            assert worker.stdout is not None
            ready = await asyncio.wait_for(worker.stdout.readline(), timeout=60)
            assert ready == b"ready\n", ready

        started = time.perf_counter()
        outputs = await asyncio.wait_for(
            asyncio.gather(*(worker.communicate(b"go\n") for worker in workers)), timeout=120
        )
        elapsed = time.perf_counter() - started

        for worker, (_, stderr) in zip(workers, outputs, strict=True):
            assert worker.returncode == 0, stderr.decode()
        counts = [json.loads(stdout) for stdout, _ in outputs]
        ok = sum(c["ok"] for c in counts)
        refused = sum(c["refused"] for c in counts)
        print(
            f"holds from 2 processes: {ATTEMPTS} attempted, {ok} ok, {refused} refused "
            f"in {elapsed:.2f}s on postgresql (per process: {[c['ok'] for c in counts]} ok)"
        )
        assert (ok, refused) == (FITS, ATTEMPTS - FITS)
        await assert_exactly_fits_were_reserved(sessions, user)
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.communicate()
        await engine.dispose()


async def test_concurrent_retries_with_one_key_reserve_top_up_and_settle_once(
    database_url: str, make_user: MakeUser
) -> None:
    engine = create_engine(database_url, pool_size=10)
    try:
        sessions = create_session_factory(engine)
        user = await make_user(sessions)
        top_up_key, hold_key = new_key("topup"), new_key("hold")

        top_ups = await asyncio.gather(
            *(
                billing.top_up(sessions, user_id=user, amount_nanos=10 * PRICE, idempotency_key=top_up_key)
                for _ in range(20)
            )
        )
        holds = await asyncio.gather(
            *(
                billing.hold(sessions, user_id=user, amount_nanos=2 * PRICE, idempotency_key=hold_key)
                for _ in range(20)
            )
        )
        hold_id = holds[0].hold_id
        usage = usage_for(user)
        settles = await asyncio.gather(
            *(billing.settle(sessions, hold_id=hold_id, cost_nanos=PRICE, usage=usage) for _ in range(20))
        )

        for results in (top_ups, holds, settles):
            assert [r.replayed for r in results].count(False) == 1
        assert {r.transaction_id for r in top_ups} == {top_ups[0].transaction_id}
        assert {r.hold_id for r in holds} == {hold_id}
        assert {(r.transaction_id, r.charged_nanos) for r in settles} == {(settles[0].transaction_id, PRICE)}
        assert await billing.get_balance(sessions, user) == billing.Balance(user, 9 * PRICE, 0)
        assert await billing.verify_invariants(sessions, user) == []
    finally:
        await engine.dispose()
