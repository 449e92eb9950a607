"""Serving a chat stream and billing exactly what it delivered.

Chunks go to the client as the upstream produces them (no buffering). The stream ends in
one of three ways, and is settled in each:
- the upstream finishes: its reported usage is billed (or our count if it reported none);
- the client disconnects: we keep reading the upstream for ``stream_drain_seconds`` to get
  its usage, else bill the tokens delivered so far; then the upstream is cancelled;
- the upstream breaks: the client gets an error event and pays for what it received.
An answer with no content costs nothing. Settlement runs in a task the server cannot cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from modelsnest import billing
from modelsnest.catalog.pricing import chat_cost
from modelsnest.errors import ModelsnestError
from modelsnest.exact_json import dumps, money
from modelsnest.gateway.admission import finish, usage_record
from modelsnest.gateway.chat import ENDPOINT, StreamStart
from modelsnest.gateway.receipts import chat_billing
from modelsnest.providers.errors import ProviderError
from modelsnest.providers.types import ChatChunk, Usage

log = logging.getLogger(__name__)

DONE = b"data: [DONE]\n\n"
CHECKPOINT_SECONDS = 5.0
_SETTLE_FAILED = {
    "error": {
        "message": "the usage of this stream could not be recorded",
        "type": "server_error",
        "code": "USAGE_TRANSACTION_FAILED",
        "param": None,
    }
}


def sse(data: Any) -> bytes:
    return b"data: " + dumps(data) + b"\n\n"


@dataclass
class Outcome:
    usage: Usage | None = None
    usage_chunk: dict[str, Any] | None = None
    delivered_tokens: int = 0
    content_seen: bool = False
    cancelled: bool = False
    error: ProviderError | None = None
    ttft_ms: int | None = None
    last_chunk: dict[str, Any] | None = None


class ChatStreamResponse(Response):
    """The response a route returns for ``stream: true``; it drives one ``StreamStart``."""

    media_type = "text/event-stream; charset=utf-8"

    def __init__(self, start: StreamStart) -> None:
        super().__init__(
            status_code=200,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **start.headers},
        )
        # A stream has no length; Response would announce an empty body.
        self.raw_headers = [h for h in self.raw_headers if h[0] != b"content-length"]
        self.start = start

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = self.start
        headers = self.raw_headers
        disconnected = asyncio.Event()
        outcome = Outcome()
        pump: asyncio.Task[None] | None = None

        async def watch() -> None:
            while True:
                message: Message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected.set()
                    break
            # The pump notices the disconnect at its next chunk and drains; an upstream that
            # has gone silent is cut off here, once the drain time is over.
            await asyncio.sleep(start.gateway.settings.stream_drain_seconds + 0.5)
            if pump is not None and not pump.done():
                pump.cancel()

        watcher = asyncio.create_task(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            pump = asyncio.create_task(self._pump(send, disconnected, outcome))
            await pump
        except OSError:
            outcome.cancelled = True
        except asyncio.CancelledError:
            outcome.cancelled = True
        finally:
            watcher.cancel()
            # Settle in a task of its own: a server cancelling this coroutine must not lose the bill.
            task = asyncio.ensure_future(self._finalize(pump, outcome))
            start.gateway.background.add(task)
            task.add_done_callback(start.gateway.background.discard)
            try:
                cost = await asyncio.shield(task)
            except BaseException:
                cost = None
        if outcome.cancelled:
            return
        with contextlib.suppress(OSError):
            if cost is None:
                await send(
                    {"type": "http.response.body", "body": sse(_SETTLE_FAILED) + DONE, "more_body": False}
                )
            else:
                await self._send_tail(send, outcome, cost)

    async def _finalize(self, pump: asyncio.Task[None] | None, outcome: Outcome) -> int | None:
        if pump is not None and not pump.done():
            pump.cancel()
            await asyncio.wait({pump})
        return await self._settle(outcome)

    async def _pump(self, send: Send, disconnected: asyncio.Event, outcome: Outcome) -> None:
        start = self.start
        stream = start.stream
        chunk: ChatChunk | None = start.first
        next_checkpoint = time.monotonic() + CHECKPOINT_SECONDS
        try:
            while chunk is not None:
                if chunk.usage is not None:
                    outcome.usage = chunk.usage
                    if not chunk.data.get("choices"):
                        outcome.usage_chunk = chunk.data  # sent last, with the cost
                        chunk = await _next(stream)
                        continue
                outcome.delivered_tokens += chunk.completion_tokens_delta
                if chunk.completion_tokens_delta:
                    outcome.content_seen = True
                if disconnected.is_set():
                    outcome.cancelled = True
                    break
                outcome.last_chunk = chunk.data
                await send({"type": "http.response.body", "body": sse(chunk.data), "more_body": True})
                if outcome.ttft_ms is None:
                    outcome.ttft_ms = int((time.perf_counter() - start.started) * 1000)
                if time.monotonic() >= next_checkpoint:
                    next_checkpoint = time.monotonic() + CHECKPOINT_SECONDS
                    self._checkpoint(outcome)
                chunk = await _next(stream)
        except ProviderError as exc:
            outcome.error = exc
        except asyncio.CancelledError:
            outcome.cancelled = True
            await stream.aclose()
            return
        if outcome.cancelled:
            await self._drain(outcome)
        await stream.aclose()

    async def _drain(self, outcome: Outcome) -> None:
        """The client left: read on (bounded) for the upstream's usage, then cancel it."""
        if outcome.usage is not None:
            return
        try:
            async with asyncio.timeout(self.start.gateway.settings.stream_drain_seconds):
                while (chunk := await _next(self.start.stream)) is not None:
                    if chunk.usage is not None:
                        outcome.usage = chunk.usage
                        return
        except (TimeoutError, ProviderError):
            return

    def _checkpoint(self, outcome: Outcome) -> None:
        """Record the cost delivered so far, so a crash mid-stream is billed that by the sweeper."""
        start = self.start
        if start.admission.hold_id is None:
            return
        provisional = chat_cost(start.admission.price, start.prompt_estimate, outcome.delivered_tokens)
        start.gateway.spawn(
            billing.checkpoint(
                start.gateway.sessions,
                hold_id=start.admission.hold_id,
                provisional_cost_nanos=provisional,
                # A live stream must outlive the hold's TTL: the sweeper is for dead processes.
                extend_seconds=start.gateway.settings.hold_ttl_seconds,
            )
        )

    def _billed_tokens(self, outcome: Outcome) -> tuple[int, int, bool]:
        if outcome.usage is not None and outcome.error is None:
            return outcome.usage.prompt_tokens, outcome.usage.completion_tokens, outcome.usage.reported
        if outcome.delivered_tokens == 0 and not outcome.content_seen:
            return 0, 0, False  # a failed or empty answer costs nothing
        return self.start.prompt_estimate, outcome.delivered_tokens, False

    async def _settle(self, outcome: Outcome) -> int | None:
        start = self.start
        prompt, completion, reported = self._billed_tokens(outcome)
        cost = chat_cost(start.admission.price, prompt, completion) if (prompt or completion) else 0
        if outcome.error is not None:
            status = "partial" if cost else "error"
        elif outcome.cancelled:
            status = "cancelled"
        else:
            status = "success"
        latency = int((time.perf_counter() - start.started) * 1000)
        meta: dict[str, Any] = {}
        if not reported and cost:
            meta["usage"] = "counted locally"
        if outcome.error is not None:
            meta["upstream_error"] = outcome.error.message[:300]
        try:
            await finish(
                start.gateway,
                start.admission,
                cost_nanos=cost,
                tokens=prompt + completion,
                usage=usage_record(
                    start.admission,
                    ENDPOINT,
                    provider_name=start.served.provider_name,
                    upstream_model=start.served.upstream_model,
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                    latency_ms=latency,
                    ttft_ms=outcome.ttft_ms,
                    status=status,
                    http_status=200,
                    error_code="UPSTREAM_STREAM_BROKEN" if outcome.error is not None else None,
                    error_message=outcome.error.message[:500] if outcome.error is not None else None,
                    cancelled=outcome.cancelled,
                    streamed=True,
                    meta=meta or None,
                ),
            )
        except ModelsnestError:
            log.exception("stream %s could not be settled", start.admission.request_id)
            return None
        return cost

    async def _send_tail(self, send: Send, outcome: Outcome, cost: int) -> None:
        start = self.start
        tail = b""
        if outcome.error is not None:
            tail += sse(
                {
                    "error": {
                        "message": f"the upstream stream broke: {outcome.error.message}"[:500],
                        "type": "upstream_error",
                        "code": "UPSTREAM_STREAM_BROKEN",
                        "param": None,
                    }
                }
            )
        elif start.request.include_usage:
            tail += sse(self._usage_chunk(outcome, cost))
        tail += DONE
        await send({"type": "http.response.body", "body": tail, "more_body": False})

    def _usage_chunk(self, outcome: Outcome, cost: int) -> dict[str, Any]:
        start = self.start
        prompt, completion, _ = self._billed_tokens(outcome)
        chunk = dict(outcome.usage_chunk) if outcome.usage_chunk else {}
        if not chunk:
            template = outcome.last_chunk or start.first.data
            chunk = {
                "id": template.get("id"),
                "object": "chat.completion.chunk",
                "created": template.get("created"),
                "model": template.get("model"),
                "choices": [],
            }
        usage = dict(chunk.get("usage") or {})
        usage.setdefault("prompt_tokens", prompt)
        usage.setdefault("completion_tokens", completion)
        usage.setdefault("total_tokens", prompt + completion)
        usage["cost"] = money(cost)
        chunk["usage"] = usage
        chunk["billing"] = chat_billing(start.admission.model, start.admission.price, cost)
        return chunk


async def _next(stream: Any) -> ChatChunk | None:
    try:
        chunk: ChatChunk = await stream.__anext__()
    except StopAsyncIteration:
        return None
    return chunk
