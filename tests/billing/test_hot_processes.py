"""Two server processes, each with its own hot ledger (its own asyncpg pool, or its own SQLite
writer thread on the shared file), race for credits that cover exactly 50 holds: exactly 50
succeed, each is settled, and the ledger is exact.

This file is also the worker: ``python -m tests.billing.test_hot_processes URL USER COUNT PRICE``
prints ``ready``, waits for a line on stdin, runs COUNT concurrent holds, settles the ones it
got at their full amount, and prints ``{"ok": n, "refused": m}``."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

from modelsnest import billing
from modelsnest.billing.hot import create_hot_ledger
from modelsnest.db.engine import create_engine, create_session_factory
from modelsnest.errors import InsufficientCredits
from modelsnest.runtime import Runtime
from tests.billing.helpers import MakeUser, new_key

ATTEMPTS, FITS, PROCESSES = 200, 50, 2
PRICE = 1_000_003
REPO = Path(__file__).resolve().parents[2]


async def test_two_processes_with_hot_ledgers_get_exactly_50_holds(
    runtime: Runtime, make_user: MakeUser
) -> None:
    sessions = runtime.sessions
    user = await make_user(sessions)
    await billing.top_up(sessions, user_id=user, amount_nanos=FITS * PRICE, idempotency_key=new_key())
    url = runtime.settings.async_database_url
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.billing.test_hot_processes",
            url,
            str(user),
            str(ATTEMPTS // PROCESSES),
            str(PRICE),
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:  # the barrier: both ready before either starts
            assert worker.stdout is not None
            ready = await asyncio.wait_for(worker.stdout.readline(), timeout=60)
            assert ready == b"ready\n", ready
        started = time.perf_counter()
        outputs = await asyncio.wait_for(
            asyncio.gather(*(worker.communicate(b"go\n") for worker in workers)), timeout=120
        )
        elapsed = time.perf_counter() - started
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.communicate()

    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr.decode()
    counts = [json.loads(stdout) for stdout, _ in outputs]
    ok, refused = sum(c["ok"] for c in counts), sum(c["refused"] for c in counts)
    print(
        f"hot holds + settles from {PROCESSES} processes on {runtime.engine.dialect.name}: "
        f"{ok} ok, {refused} refused in {elapsed:.2f}s (per process: {[c['ok'] for c in counts]})"
    )
    assert (ok, refused) == (FITS, ATTEMPTS - FITS)
    assert await billing.verify_invariants(sessions, user) == []
    balance = await billing.get_balance(sessions, user)
    assert (balance.balance_nanos, balance.reserved_nanos) == (0, 0)


async def _worker(url: str, user_id: int, count: int, price: int) -> dict[str, int]:
    engine = create_engine(url, pool_size=2)
    sessions = create_session_factory(engine)
    ledger = create_hot_ledger(url, sessions, pool_size=8)
    try:
        await ledger.hold(user_id=user_id, amount_nanos=0, idempotency_key=f"warm:{uuid.uuid4().hex}")
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        run = uuid.uuid4().hex

        async def hold(i: int) -> billing.HoldResult:
            await asyncio.sleep(i * 0.0003)  # spread out, so the two processes interleave
            return await ledger.hold(user_id=user_id, amount_nanos=price, idempotency_key=f"race:{run}:{i}")

        results = await asyncio.gather(*(hold(i) for i in range(count)), return_exceptions=True)
        unexpected = [
            r for r in results if isinstance(r, BaseException) and not isinstance(r, InsufficientCredits)
        ]
        if unexpected:
            raise unexpected[0]
        held = [r for r in results if isinstance(r, billing.HoldResult)]
        usage = [billing.UsageRecord(f"race-{run}-{i}", user_id, None, "chat", "m") for i in range(len(held))]
        await asyncio.gather(
            *(
                ledger.settle(hold_id=h.hold_id, cost_nanos=price, usage=u)
                for h, u in zip(held, usage, strict=True)
            )
        )
        return {"ok": len(held), "refused": count - len(held)}
    finally:
        await ledger.close()
        await engine.dispose()


if __name__ == "__main__":
    url_arg, user_arg, count_arg, price_arg = sys.argv[1:5]
    print(json.dumps(asyncio.run(_worker(url_arg, int(user_arg), int(count_arg), int(price_arg)))))
