"""The background work of one server process: long-running loops (the hold sweeper, the
video poller …) and short tasks spawned by requests that must outlive them (settling a
stream after its client left). Owned by ``Services``; closed in the app's lifespan, which
waits for spawned tasks (so no bill is lost on shutdown) and then cancels the loops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
LOOP_STOP_SECONDS = 5.0


class TaskSet:
    def __init__(self) -> None:
        self._loops: list[asyncio.Task[Any]] = []
        self._spawned: set[asyncio.Task[Any]] = set()

    def start_loop(self, name: str, loop: Coroutine[Any, Any, Any]) -> None:
        """Run ``loop`` until shutdown; it should handle its own errors and never return."""
        task = asyncio.create_task(loop, name=name)
        task.add_done_callback(self._loop_ended)
        self._loops.append(task)

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run ``work`` to its end even if the request that started it is cancelled."""
        task = asyncio.ensure_future(work)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)
        return task

    @property
    def loop_names(self) -> list[str]:
        return [task.get_name() for task in self._loops]

    async def close(self, drain_seconds: float) -> None:
        if self._spawned:
            await asyncio.wait(set(self._spawned), timeout=drain_seconds)
        for task in self._loops:
            task.cancel()
        if self._loops:
            # A loop that swallows its cancellation must not hold the shutdown hostage.
            _, stuck = await asyncio.wait(set(self._loops), timeout=LOOP_STOP_SECONDS)
            for task in stuck:
                log.error("background loop %s ignored its cancellation", task.get_name())
        self._loops.clear()

    @staticmethod
    def _loop_ended(task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("background loop %s died", task.get_name(), exc_info=error)
