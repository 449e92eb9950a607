"""The machinery shared by the fake upstreams: behaviour switch, recording, lifecycle.

A ``FakeUpstream`` is a real aiohttp HTTP server on 127.0.0.1 (a free port by default). Run it

* in the test's event loop:      ``async with FakeOpenAIUpstream() as fake: ...``
* in a background thread with its own loop (works for sync tests and for a gateway running
  as a subprocess):              ``with FakeOpenAIUpstream() as fake: ...``
  (or ``fake.start_in_thread()`` / ``fake.stop_thread()``)
* as a process:                  ``python -m tests.fakes.openai_upstream --port N``
  (prints ``listening on <base_url>``; control it over HTTP, see ``FakeControl``).

Per test, set ``fake.behaviour = Behaviour(...)`` (or ``fake.set(status=500)``) and read
``fake.requests`` (method, path, headers, JSON body of every call), ``fake.calls`` and
``fake.disconnects`` (responses the client abandoned before the end: a stream closed early,
a timed-out request). ``fake.reset()`` restores the defaults and clears the records.

Token accounting is deterministic and deliberately *not* modelsnest's own tokenizer, so a test
can tell a reported usage from a local estimate:

* ``prompt_tokens``     = 3 + Σ over messages (and the Anthropic ``system``) of
                          ``len(text) // 4 + 4`` (text parts joined; other parts count 0)
* ``completion_tokens`` = the number of ``reply_pieces`` streamed: one per word of the reply
                          (with its leading whitespace) and one per 8 characters of each
                          tool call's JSON arguments.

Usage details are reported as each upstream reports them, from ``Behaviour``:
``prompt_tokens`` (an override of the count above, for long-context tiers), ``cached_tokens``,
``cache_write_tokens`` (``cache_write_1h_tokens`` of them), ``audio_input_tokens`` — parts of
the prompt — and ``reasoning_tokens``, ``audio_output_tokens`` — added to the completion.
OpenAI: ``prompt_tokens_details`` / ``completion_tokens_details`` (cache writes as OpenRouter's
``prompt_tokens_details.cache_write_tokens``); Anthropic: ``input_tokens`` *without* cache
reads and writes, ``cache_read_input_tokens``, ``cache_creation_input_tokens`` and
``cache_creation.ephemeral_{5m,1h}_input_tokens``.

Generated files (images, videos) are served by the fake itself: ``fake.host_file(data,
content_type)`` returns a ``GET {url}/files/<name>`` URL, so an adapter's download path runs over
real HTTP too. Downloads are not recorded in ``requests`` (so ``calls`` counts API calls only):
``fake.downloads`` lists the paths fetched; ``Behaviour.download_status`` fails them.

Multipart requests are parsed into ``RecordedRequest.form`` (text fields) and ``.files``.

Control endpoints (for the subprocess mode): ``POST /_fake/behaviour`` (Behaviour fields as
JSON), ``POST /_fake/reset``, ``GET /_fake/requests``, ``GET /_fake/state``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import threading
import time
import uuid
from typing import Any, Self

import httpx
import orjson
from aiohttp import web

from tests.fakes.behaviour import (  # noqa: F401  (re-exported: tests import them from here)
    DEFAULT_REPLY,
    Behaviour,
    FakeToolCall,
    RecordedFile,
    RecordedRequest,
    argument_pieces,
    fake_prompt_tokens,
    message_text,
    parse_multipart,
    reply_pieces,
    truncate,
)


class FakeUpstream:
    """Base of the fakes; subclasses add their routes in ``add_routes``."""

    api_prefix = ""  # appended to the root URL to form ``base_url``
    name = "fake"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.behaviour = Behaviour()
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        self.files: dict[str, tuple[bytes, str]] = {}
        self.downloads: list[str] = []
        self._generation = 0
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- per-test API ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What a provider's ``base_url`` should be set to."""
        return self.url + self.api_prefix

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def last(self) -> RecordedRequest:
        return self.requests[-1]

    @property
    def bodies(self) -> list[Any]:
        return [r.json for r in self.requests]

    def set(self, **changes: Any) -> Behaviour:
        """Change some behaviour fields, keep the rest."""
        self.behaviour = dataclasses.replace(self.behaviour, **changes)
        return self.behaviour

    def reset(self) -> None:
        self._generation += 1
        self.behaviour = Behaviour()
        self.requests = []
        self.disconnects = 0
        self.files = {}
        self.downloads = []

    def host_file(self, data: bytes, content_type: str, suffix: str = "") -> str:
        """Serve ``data`` at a fresh URL of this fake (``GET /files/<name>``)."""
        name = uuid.uuid4().hex + suffix
        self.files[name] = (data, content_type)
        return f"{self.url}/files/{name}"

    async def wait_for_disconnect(self, count: int = 1, within: float = 3.0) -> bool:
        """True once ``disconnects >= count`` (polls; safe with a thread-run fake)."""
        deadline = time.monotonic() + within
        while self.disconnects < count:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def wait_for_disconnect_sync(self, count: int = 1, within: float = 3.0) -> bool:
        deadline = time.monotonic() + within
        while self.disconnects < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- for subclasses --------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def record(self, request: web.Request) -> tuple[RecordedRequest, int]:
        """Record the request; returns it and the generation it belongs to."""
        raw = await request.read()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        peername = request.transport.get_extra_info("peername") if request.transport else None
        peer = (str(peername[0]), int(peername[1])) if peername else None
        headers = {str(key): value for key, value in request.headers.items()}
        recorded = RecordedRequest(request.method, request.path, headers, body, raw, time.time(), peer)
        recorded.query = dict(request.query)
        if request.content_type == "multipart/form-data":
            recorded.form, recorded.files = parse_multipart(raw, request.headers["Content-Type"])
        self.requests.append(recorded)
        return recorded, self._generation

    def note_disconnect(self, generation: int) -> None:
        if generation == self._generation:
            self.disconnects += 1

    def forced_failure(self) -> int | None:
        """The status to fail this call with, if the behaviour says so."""
        b = self.behaviour
        if b.status < 300 or (b.fail_times is not None and self.calls > b.fail_times):
            return None
        return b.status

    def error_response(self, status: int, body: Any) -> web.Response:
        headers = self.behaviour.headers
        if isinstance(body, str):
            return web.Response(status=status, text=body, headers=headers)
        return web.Response(
            status=status, body=orjson.dumps(body), content_type="application/json", headers=headers
        )

    async def start_sse(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        response.headers.update(self.behaviour.headers)
        await response.prepare(request)
        return response

    async def pause(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    async def delay_headers(self, generation: int) -> None:
        """Wait ``Behaviour.headers_delay``; a client that gives up meanwhile is a disconnect."""
        try:
            await self.pause(self.behaviour.headers_delay)
        except asyncio.CancelledError:
            self.note_disconnect(generation)
            raise

    async def _serve_file(self, request: web.Request) -> web.Response:
        self.downloads.append(request.path)
        status = self.behaviour.download_status
        if status >= 300:
            return web.Response(status=status, text="file unavailable")
        found = self.files.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404, text="no such file")
        data, content_type = found
        return web.Response(body=data, content_type=content_type)

    # -- control endpoints ---------------------------------------------------------------------
    async def _control_behaviour(self, request: web.Request) -> web.Response:
        self.behaviour = Behaviour.from_json(orjson.loads(await request.read()))
        return web.json_response({"ok": True})

    async def _control_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _control_requests(self, request: web.Request) -> web.Response:
        rows = [
            {
                "method": r.method,
                "path": r.path,
                "headers": r.headers,
                "json": r.json,
                "query": r.query,
                "form": r.form,
            }
            for r in self.requests
        ]
        return web.Response(body=orjson.dumps(rows), content_type="application/json")

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response({"calls": self.calls, "disconnects": self.disconnects})

    # -- lifecycle -----------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/_fake/behaviour", self._control_behaviour)
        app.router.add_post("/_fake/reset", self._control_reset)
        app.router.add_get("/_fake/requests", self._control_requests)
        app.router.add_get("/_fake/state", self._control_state)
        app.router.add_get("/files/{name}", self._serve_file)
        self.add_routes(app)
        return app

    async def start(self) -> Self:
        """Serve in the running loop."""
        runner = web.AppRunner(
            self.build_app(), handler_cancellation=True, shutdown_timeout=0.2, access_log=None
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def start_in_thread(self) -> Self:
        """Serve from a daemon thread running its own event loop."""
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = self._loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name=f"{self.name}-upstream", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop_thread(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)

    def __enter__(self) -> Self:
        return self.start_in_thread()

    def __exit__(self, *exc_info: object) -> None:
        self.stop_thread()


class FakeControl:
    """Drive a fake running as a separate process through its control endpoints."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def set_behaviour(self, **fields: Any) -> None:
        httpx.post(f"{self.url}/_fake/behaviour", json=fields).raise_for_status()

    def reset(self) -> None:
        httpx.post(f"{self.url}/_fake/reset").raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = httpx.get(f"{self.url}/_fake/requests").json()
        return rows

    def state(self) -> dict[str, int]:
        state: dict[str, int] = httpx.get(f"{self.url}/_fake/state").json()
        return state


def serve_forever(fake: FakeUpstream, argv: list[str] | None = None) -> None:
    """``python -m tests.fakes.<name> --port N [--host H] [--reply TEXT] [--chunk-delay S]``."""
    parser = argparse.ArgumentParser(description=f"Fake {fake.name} upstream for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply", default=DEFAULT_REPLY)
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    args = parser.parse_args(argv)
    fake.host, fake.port = args.host, args.port
    fake.set(reply=args.reply, chunk_delay=args.chunk_delay)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with fake:
            print(f"listening on {fake.base_url}", flush=True)
            await stop.wait()

    asyncio.run(main())
