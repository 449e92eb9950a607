"""A generic HTTP API on 127.0.0.1 (a real aiohttp server) for the API Store's tests.

It records every request exactly as it arrived (method, raw path with the query, headers,
body bytes) and answers by path:

* ``status/{code}``          — that status, body ``status {code}``
* ``big?bytes=N&chunk=C``    — N bytes streamed in chunks of C (chunked, no Content-Length)
* ``sized?bytes=N``          — N bytes with a Content-Length
* ``slow?seconds=S``         — waits S seconds before answering
* ``stall?seconds=S``        — sends the headers and a first chunk, then waits S seconds
* ``redirect?to=URL``        — 302 to URL
* ``page``                   — the HTML page ``PAGE`` (for html-to-markdown)
* anything else              — 200 ``application/octet-stream``: ``b"echo:" + body``
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web
from multidict import CIMultiDict

PAGE = (
    "<!doctype html><html><head><title>Sample page</title><style>p{color:red}</style>"
    "<script>alert('x')</script></head><body><h1>Sample page</h1>"
    '<p>Some <strong>bold</strong> and <em>italic</em> text with a <a href="https://example.com/">link</a>.</p>'
    "<h2>List</h2><ul><li>one</li><li>two</li></ul></body></html>"
)


@dataclass(frozen=True)
class Seen:
    method: str
    raw_path: str  # path and query exactly as received
    headers: CIMultiDict[str]
    body: bytes


class FakeHttpApi:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @contextmanager
    def running(self) -> Iterator[Self]:
        """Serve from a background thread with its own event loop (for synchronous tests)."""
        loop = asyncio.new_event_loop()
        started = threading.Event()
        stop = asyncio.Event()

        async def serve() -> None:
            async with self:
                started.set()
                await stop.wait()

        thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
        thread.start()
        assert started.wait(10), "the fake HTTP API did not start"
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            loop.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Seen(request.method, request.raw_path, CIMultiDict(request.headers), body))
        tail = request.match_info["tail"]
        parts = tail.split("/")
        q = request.query
        if parts[-1].isdigit() and len(parts) >= 2 and parts[-2] == "status":
            code = int(parts[-1])
            return web.Response(status=code, body=f"status {code}".encode())
        if parts[-1] == "big":
            total, chunk = int(q.get("bytes", "0")), int(q.get("chunk", "65536"))
            response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            sent = 0
            while sent < total:
                piece = min(chunk, total - sent)
                await response.write(bytes([65 + (sent // chunk) % 26]) * piece)
                sent += piece
            await response.write_eof()
            return response
        if parts[-1] == "sized":
            return web.Response(body=b"x" * int(q.get("bytes", "0")), content_type="application/octet-stream")
        if parts[-1] == "slow":
            await asyncio.sleep(float(q.get("seconds", "1")))
            return web.Response(text="late")
        if parts[-1] == "stall":
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(b"first")
            await asyncio.sleep(float(q.get("seconds", "1")))
            await response.write(b"second")
            await response.write_eof()
            return response
        if parts[-1] == "redirect":
            raise web.HTTPFound(q["to"])
        if parts[-1] == "page":
            return web.Response(text=PAGE, content_type="text/html")
        return web.Response(
            body=b"echo:" + body, content_type="application/octet-stream", headers={"X-Upstream": "yes"}
        )
