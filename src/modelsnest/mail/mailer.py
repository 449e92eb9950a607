from __future__ import annotations

import asyncio
import logging
from typing import Any

from modelsnest.mail.message import compose
from modelsnest.mail.transport import Transport
from modelsnest.tasks import TaskSet

log = logging.getLogger(__name__)


class Mailer:
    """One per process. ``send`` composes now and delivers in the background."""

    def __init__(self, transport: Transport, sender: str, tasks: TaskSet | None = None) -> None:
        self.transport = transport
        self.sender = sender
        self._tasks = tasks
        self._pending: set[asyncio.Task[bool]] = set()

    def send(
        self, template: str, *, to: str, reply_to: str | None = None, **context: Any
    ) -> asyncio.Task[bool]:
        """Queue a message; the task's result says whether it was delivered. A template error is
        a bug and raises here; a delivery error is only logged."""
        message = compose(template, to=to, sender=self.sender, context=context, reply_to=reply_to)
        work = self._deliver(message, template)
        task = self._tasks.spawn(work) if self._tasks is not None else asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def drain(self) -> None:
        """Wait for every queued message (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def _deliver(self, message: Any, template: str) -> bool:
        try:
            await self.transport.deliver(message)
        except Exception as exc:
            # The recipient is personal data and the body holds a live link: log neither.
            log.warning("could not send the %s mail through %s: %s", template, self.transport.describe(), exc)
            return False
        return True
