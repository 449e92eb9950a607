"""One writer thread that owns a stdlib ``sqlite3`` connection and commits in groups.

Jobs are plain functions of the connection. The thread takes every job queued so far and runs
them in ONE ``BEGIN IMMEDIATE … COMMIT``, each inside its own SAVEPOINT so that a job that
raises (not enough credits, say) undoes only its own writes. Results and exceptions reach the
event loop (``call_soon_threadsafe``) only after the COMMIT: a caller never sees a result that
is not durable. If the BEGIN or the COMMIT fails, every job of the group gets that error and
nothing of the group is written.

Other processes may write the same file: the write lock is held for one group only (a few
hundred microseconds), and a group waits for it up to ``busy_timeout``. It waits in steps of
50 µs growing to 1 ms (``begin_immediate``), not with SQLite's own busy handler, which sleeps
1, 2, 5, 10 … ms: with two server workers taking turns on the lock, those sleeps left a third
of the machine idle.

Checkpoints (copying the WAL back into the database file, with two fsyncs) would otherwise run
inside the COMMIT of every ~50th group and stall it for milliseconds (measured p99 ≈ 4 ms).
The writer's connection therefore does not auto-checkpoint; a second thread runs a PASSIVE
checkpoint, which never blocks the writer or readers, a few times a second."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from modelsnest.observability import metrics

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
MAX_GROUP: Final = 256  # bounds how long one transaction holds the write lock
BUSY_TIMEOUT_MS: Final = 30_000
FIRST_RETRY_SECONDS: Final = 0.00005
LONGEST_RETRY_SECONDS: Final = 0.001
CHECKPOINT_EVERY_SECONDS: Final = 0.25

log = logging.getLogger(__name__)


def connect(path: str, *, auto_checkpoint: bool = True) -> sqlite3.Connection:
    """The same settings as the SQLAlchemy engine's connections (``db/engine.py``)."""
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    if not auto_checkpoint:
        connection.execute("PRAGMA wal_autocheckpoint=0")
    return connection


def begin_immediate(connection: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting for another connection's write lock in short steps (see
    the module doc), up to ``BUSY_TIMEOUT_MS``. The connection's own busy timeout is off for
    this one statement and on again once the lock is held."""
    connection.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, LONGEST_RETRY_SECONDS)
    finally:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


class _Checkpointer:
    """PASSIVE checkpoints from a connection and thread of their own (see the module doc)."""

    def __init__(self, path: str, name: str) -> None:
        self._path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _main(self) -> None:
        try:
            connection = connect(self._path)
        except Exception:  # the other connections' auto-checkpoints still keep the WAL bounded
            log.exception("hot ledger: cannot open the checkpoint connection to %s", self._path)
            return
        try:
            while not self._stop.wait(CHECKPOINT_EVERY_SECONDS):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:
                    log.warning("hot ledger: checkpoint failed: %r", exc)
        finally:
            connection.close()


@dataclass(slots=True)
class _Task:
    job: Job
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


@dataclass(slots=True)
class _Stop:
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop


Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


def _deliver(outcomes: list[Outcome]) -> None:
    """On the event loop: resolve the futures of one group (a caller may have given up)."""
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class Writer:
    def __init__(self, path: str, *, name: str = "hot-ledger-writer") -> None:
        self._path = path
        self._queue: queue.SimpleQueue[_Task | _Stop] = queue.SimpleQueue()
        self._closing = False
        self._stopped: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self.groups = 0  # transactions committed (or attempted): group commit at work
        self.jobs = 0

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._closing:
            raise RuntimeError("the hot ledger is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Task(job, future, loop))
        return await future

    async def close(self) -> None:
        """Finish every job queued so far, then close the connection and end the thread."""
        if not self._closing:
            self._closing = True
            loop = asyncio.get_running_loop()
            self._stopped = loop.create_future()
            self._queue.put(_Stop(self._stopped, loop))
        if self._stopped is not None:
            await asyncio.shield(self._stopped)
        self._thread.join()

    # -- the thread ---------------------------------------------------------------------------

    def _main(self) -> None:
        connection: sqlite3.Connection | None = None
        opening_error: BaseException | None = None
        stop: _Stop | None = None
        try:
            connection = connect(self._path, auto_checkpoint=False)
        except Exception as exc:  # every job will get it: the database cannot be opened
            opening_error = exc
        checkpointer = _Checkpointer(self._path, f"{self._thread.name}-checkpoint")
        try:
            while True:
                first = self._queue.get()
                group: list[_Task] = []
                stop = first if isinstance(first, _Stop) else None
                if isinstance(first, _Task):
                    group.append(first)
                while stop is None and len(group) < MAX_GROUP:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(item, _Stop):
                        stop = item
                    else:
                        group.append(item)
                if group:
                    if connection is None:
                        assert opening_error is not None
                        self._send([(t.future, None, opening_error) for t in group], group)
                    else:
                        self._send(self._commit_group(connection, group), group)
                if stop is not None:
                    break
        finally:
            checkpointer.stop()
            if connection is not None:
                connection.close()
            if stop is not None:
                self._send([(stop.future, None, None)], [stop])

    def _commit_group(self, connection: sqlite3.Connection, group: list[_Task]) -> list[Outcome]:
        self.groups += 1
        self.jobs += len(group)
        metrics.SETTLEMENT_BATCH.observe(len(group))
        try:
            begin_immediate(connection)
        except Exception as exc:
            return [(t.future, None, exc) for t in group]
        outcomes: list[Outcome] = []
        try:
            for task in group:
                outcomes.append(self._run_job(connection, task))
            connection.execute("COMMIT")
        except Exception as exc:  # the group is lost as a whole: nothing of it was written
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            return [(t.future, None, exc) for t in group]
        return outcomes

    @staticmethod
    def _run_job(connection: sqlite3.Connection, task: _Task) -> Outcome:
        if task.future.cancelled():  # the caller gave up before its turn: write nothing
            return (task.future, None, None)
        connection.execute("SAVEPOINT job")
        try:
            result = task.job(connection)
        except Exception as exc:
            connection.execute("ROLLBACK TO job")
            connection.execute("RELEASE job")
            return (task.future, None, exc)
        connection.execute("RELEASE job")
        return (task.future, result, None)

    @staticmethod
    def _send(outcomes: list[Outcome], group: Sequence[_Task | _Stop]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
        for task, outcome in zip(group, outcomes, strict=True):
            by_loop.setdefault(task.loop, []).append(outcome)
        for loop, items in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
                loop.call_soon_threadsafe(_deliver, items)
