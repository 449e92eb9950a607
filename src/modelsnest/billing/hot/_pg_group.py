"""Group commit on PostgreSQL: many requests' executions of one statement in ONE atomic,
pipelined round and one WAL flush.

Each request's settle is one statement (``_pg_sql``). Run alone, each is its own transaction:
a round trip, a commit that waits for its WAL flush, and — with one busy account — a row lock
on the account's credits held until that flush, so every request of that account queues behind
the one before. A ``Group`` collects the executions queued while the previous round was in
flight and sends them with asyncpg's ``fetchmany``: Bind/Execute for each, one Sync, so
PostgreSQL runs them in one implicit transaction and commits once. A caller's result is set
only after that commit: nothing is answered before it is durable (DESIGN §2).

Statement order inside a round is arrival order, and each statement sees the writes of the
ones before it, so balances, ledger ids and rollups come out as if the calls had run one by
one. A round that fails (a constraint, a deadlock, a serialisation failure) is rolled back
whole; its executions are then run one by one, each in its own transaction, so that only the
faulty one gets the error. With nothing in flight a call goes out at once: an idle server adds
no wait to the first request.

Results are matched to callers by a key column of the statement's result (the hold id),
because ``fetchmany`` returns the rows of all executions as one list. Executions with the same
key never share a round.

A round locks the credits rows of several accounts, and two processes' rounds run at once: so
that they never deadlock, a round runs in the order of one argument (the account), stable, so
one account's calls keep their arrival order."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import asyncpg

from modelsnest.observability import metrics

MAX_GROUP: Final = 128  # bounds one round's lock time and its message size

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Call:
    key: str
    args: Sequence[Any]
    future: asyncio.Future[Any]


class Group:
    def __init__(
        self, pool: Callable[[], Awaitable[Any]], query: str, *, key: str, order: int, name: str
    ) -> None:
        self._pool = pool
        self._query = query
        self._key = key
        self._order = order
        self._name = name
        self._queue: list[_Call] = []
        self._flusher: asyncio.Task[None] | None = None
        self.rounds = 0  # transactions committed (or attempted): group commit at work
        self.calls = 0

    async def fetchrow(self, key: str, args: Sequence[Any]) -> Any:
        """The row of this execution whose key column is ``key``, or None if it returned none;
        an error of this execution alone is raised here."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Call(key, args, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name=f"hot-ledger-{self._name}")
        # A caller that gives up (a client gone) does not take its settlement with it: the
        # round may already be on the wire, and what was delivered is owed either way.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Wait for the calls queued so far."""
        if self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        try:
            while self._queue:
                calls = self._take()
                try:
                    await self._round(calls)
                except BaseException as exc:
                    _fail(calls, exc)
                    if not isinstance(exc, Exception):
                        raise
        finally:
            self._flusher = None
            if self._queue:  # queued while a cancellation unwound this task
                self._flusher = asyncio.create_task(self._flush(), name=f"hot-ledger-{self._name}")

    def _take(self) -> list[_Call]:
        taken: list[_Call] = []
        keys: set[str] = set()
        kept: list[_Call] = []
        for call in self._queue:
            if len(taken) < MAX_GROUP and call.key not in keys:
                keys.add(call.key)
                taken.append(call)
            else:
                kept.append(call)
        self._queue = kept
        taken.sort(key=lambda call: call.args[self._order])
        return taken

    async def _round(self, calls: list[_Call]) -> None:
        self.rounds += 1
        self.calls += len(calls)
        metrics.SETTLEMENT_BATCH.observe(len(calls))
        pool = await self._pool()
        started = time.perf_counter()
        async with pool.acquire() as connection:
            try:
                if len(calls) == 1:
                    rows = [await connection.fetchrow(self._query, *calls[0].args)]
                else:
                    rows = await connection.fetchmany(self._query, [c.args for c in calls])
            except asyncpg.PostgresError:
                if len(calls) == 1:
                    raise
                log.info(
                    "hot ledger: a round of %d %s failed; running them one by one", len(calls), self._name
                )
                await self._one_by_one(connection, calls)
                return
        metrics.child(metrics.LEDGER_COMMIT_SECONDS, self._name).observe(time.perf_counter() - started)
        found = {row[self._key]: row for row in rows if row is not None}
        for call in calls:
            if not call.future.done():
                call.future.set_result(found.get(call.key))

    async def _one_by_one(self, connection: Any, calls: list[_Call]) -> None:
        for call in calls:
            try:
                row = await connection.fetchrow(self._query, *call.args)
            except asyncpg.PostgresError as exc:
                _set_error(call.future, exc)
            else:
                if not call.future.done():
                    call.future.set_result(row)


def _fail(calls: list[_Call], exc: BaseException) -> None:
    for call in calls:
        if not isinstance(exc, Exception):
            call.future.cancel()
        else:
            _set_error(call.future, exc)


def _set_error(future: asyncio.Future[Any], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
        future.exception()  # retrieved: a caller that left is not an "unretrieved" error
