"""``RawServer``: answers every POST with fixed bytes, for wire edge cases the fakes do not
produce (odd SSE framing, truncated bodies, non-JSON answers). Runs in the test's loop::

    async with RawServer(b'data: {"a": 1}\\n\\n') as server:
        ...  # POST to server.url + any path

A list of byte strings is written part by part, 10 ms apart (separate TCP segments), to test
events split across reads.
"""

from __future__ import annotations

import asyncio
from typing import Self

from aiohttp import web

__all__ = ["RawServer"]


class RawServer:
    def __init__(
        self, body: bytes | list[bytes], content_type: str = "text/event-stream", status: int = 200
    ) -> None:
        self.body = body
        self.content_type = content_type
        self.status = status
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(status=self.status, headers={"Content-Type": self.content_type})
        await response.prepare(request)
        parts = [self.body] if isinstance(self.body, bytes) else self.body
        for index, part in enumerate(parts):
            if index:
                await asyncio.sleep(0.01)
            await response.write(part)
        await response.write_eof()
        return response

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
