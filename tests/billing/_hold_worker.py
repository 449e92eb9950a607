"""One of the processes of ``test_concurrency``: many holds from its own engine and pool.

    python -m tests.billing._hold_worker DATABASE_URL USER_ID COUNT PRICE_NANOS

Prints ``ready`` once its pool is connected, waits for one line on stdin (the barrier that
lets two processes start together), runs COUNT concurrent holds, and prints one JSON line:
``{"ok": n, "refused": m}``. Any error other than a 402 fails the process."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

from sqlalchemy import text

from modelsnest import billing
from modelsnest.db.engine import create_engine, create_session_factory
from modelsnest.errors import InsufficientCredits

POOL = 12  # two processes × (12 + 12 overflow) stays well inside max_connections


async def main(url: str, user_id: int, count: int, price: int) -> int:
    engine = create_engine(url, pool_size=POOL)
    try:

        async def connect() -> None:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                await asyncio.sleep(0.2)  # keep it checked out so the pool opens POOL of them

        await asyncio.gather(*(connect() for _ in range(POOL)))
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)

        sessions = create_session_factory(engine)
        run = uuid.uuid4().hex  # distinct keys in each process: these are 2 × COUNT different holds
        results = await asyncio.gather(
            *(
                billing.hold(
                    sessions, user_id=user_id, amount_nanos=price, idempotency_key=f"worker:{run}:{i}"
                )
                for i in range(count)
            ),
            return_exceptions=True,
        )
        unexpected = [
            r for r in results if isinstance(r, BaseException) and not isinstance(r, InsufficientCredits)
        ]
        if unexpected:
            print(repr(unexpected[:3]), file=sys.stderr)
            return 1
        ok = sum(isinstance(r, billing.HoldResult) for r in results)
        print(json.dumps({"ok": ok, "refused": count - ok}), flush=True)
        return 0
    finally:
        await engine.dispose()


if __name__ == "__main__":
    url, user_id, count, price = sys.argv[1:5]
    sys.exit(asyncio.run(main(url, int(user_id), int(count), int(price))))
