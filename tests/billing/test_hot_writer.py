"""The SQLite writer thread: group commit with one SAVEPOINT per job, results only after the
COMMIT, cancellation before a job's turn, and a clean shutdown."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from modelsnest.billing.hot import _writer
from modelsnest.billing.hot._writer import Writer


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[Writer]:
    path = str(tmp_path / "w.db")
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    setup.close()
    w = Writer(path)
    yield w
    await w.close()


def insert(n: int, *, fail: bool = False) -> Callable[[sqlite3.Connection], int]:
    def job(connection: sqlite3.Connection) -> int:
        connection.execute("INSERT INTO t (n) VALUES (?)", (n,))
        if fail:
            raise ValueError(f"job {n} failed after writing")
        return n

    return job


async def rows(w: Writer) -> list[int]:
    return await w.run(lambda c: [r[0] for r in c.execute("SELECT n FROM t ORDER BY n")])


async def blocked(w: Writer) -> tuple[threading.Event, asyncio.Task[None]]:
    """Keep the writer busy in one job until the event is set, so what follows queues up."""
    gate, started = threading.Event(), threading.Event()

    def hold_up(_: sqlite3.Connection) -> None:
        started.set()
        gate.wait(5)

    task = asyncio.create_task(w.run(hold_up))
    await asyncio.to_thread(started.wait, 5)
    return gate, task


async def test_a_failing_job_undoes_only_its_own_writes_in_a_group(writer: Writer) -> None:
    gate, first = await blocked(writer)
    tasks = [asyncio.create_task(writer.run(insert(n, fail=n == 2))) for n in (1, 2, 3)]
    await asyncio.sleep(0.01)  # all three are queued behind the busy job
    groups = writer.groups
    gate.set()
    await first
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1], ValueError)
    assert writer.groups == groups + 1  # the three ran in one transaction
    assert await rows(writer) == [1, 3]


async def test_a_caller_that_gives_up_before_its_turn_writes_nothing(writer: Writer) -> None:
    gate, first = await blocked(writer)
    doomed = asyncio.create_task(writer.run(insert(7)))
    kept = asyncio.create_task(writer.run(insert(8)))
    await asyncio.sleep(0.01)
    doomed.cancel()
    gate.set()
    await first
    assert await kept == 8
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert await rows(writer) == [8]


async def test_close_finishes_what_is_queued_then_refuses(writer: Writer) -> None:
    gate, first = await blocked(writer)
    tasks = [asyncio.create_task(writer.run(insert(n))) for n in range(10)]
    await asyncio.sleep(0.01)
    closing = asyncio.create_task(writer.close())
    await asyncio.sleep(0.01)
    gate.set()
    await closing
    await first
    assert await asyncio.gather(*tasks) == list(range(10))
    with pytest.raises(RuntimeError, match="closed"):
        await writer.run(insert(99))
    await writer.close()  # twice is fine


async def test_a_database_that_cannot_be_opened_fails_each_job(tmp_path: Path) -> None:
    w = Writer(str(tmp_path / "missing" / "dir" / "x.db"))
    try:
        with pytest.raises(sqlite3.OperationalError):
            await w.run(insert(1))
    finally:
        await w.close()


async def test_jobs_from_many_tasks_share_transactions(writer: Writer) -> None:
    await asyncio.gather(*(writer.run(insert(n)) for n in range(200)))
    assert await rows(writer) == list(range(200))
    assert writer.groups < writer.jobs


def _lock_for(path: str, seconds: float, locked: threading.Event) -> threading.Thread:
    """Another connection holding the write lock for ``seconds`` (another process, in effect)."""

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t (n) VALUES (-1)")
        locked.set()
        threading.Event().wait(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def test_begin_immediate_waits_for_another_writer_and_keeps_the_busy_timeout(tmp_path: Path) -> None:
    path = str(tmp_path / "b.db")
    connection = _writer.connect(path)
    connection.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    locked = threading.Event()
    holder = _lock_for(path, 0.05, locked)
    locked.wait(5)
    _writer.begin_immediate(connection)  # returns once the other side has committed
    connection.execute("INSERT INTO t (n) VALUES (1)")
    connection.execute("COMMIT")
    holder.join()
    assert [r[0] for r in connection.execute("SELECT n FROM t ORDER BY n")] == [-1, 1]
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == _writer.BUSY_TIMEOUT_MS
    connection.close()


def test_begin_immediate_gives_up_as_busy_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "b.db")
    connection = _writer.connect(path)
    connection.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    monkeypatch.setattr(_writer, "BUSY_TIMEOUT_MS", 20)
    locked = threading.Event()
    holder = _lock_for(path, 0.5, locked)
    locked.wait(5)
    with pytest.raises(sqlite3.OperationalError) as raised:
        _writer.begin_immediate(connection)
    assert raised.value.sqlite_errorcode == sqlite3.SQLITE_BUSY
    assert not connection.in_transaction
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] == 20
    holder.join()
    connection.close()
