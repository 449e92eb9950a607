"""A chat stream, served and billed for exactly what it delivered — plain asyncio, no HTTP.

The HTTP edge (``api/sse.py``, and the dashboard's playground through it) hands a
``StreamSink``: it writes events to the client, and its ``closed()`` returns (setting
``disconnected``) when the client leaves. ``BilledStream.run(sink)`` forwards the upstream's chunks as they come (no buffering)
and ends in one of three ways, settling in each:

- the upstream finishes: its reported usage is billed (or our count if it reported none);
- the client disconnects: we keep reading the upstream for ``stream_drain_seconds`` to get
  its usage, else bill the tokens delivered so far; then the upstream is cancelled;
- the upstream breaks: the client gets an error event and pays for what it received.

Whichever way it ends, the bill is by dimension (``pricing.bill``: the upstream's cached,
cache-write, reasoning and audio tokens when it reported them) at the price the stream was
admitted with (``Admission.price``), never at a price set while it ran; the usage row records
that price version and the upstream cost of the same usage at the serving route's cost price.
An answer with no content costs nothing. Settlement runs in a task of the process's
``TaskSet``, which a server cancelling the request cannot cancel. A live stream records a
checkpoint every few seconds, so a crash mid-stream is billed what was delivered (sweeper).
What the client sees is shaped by a ``ChatSurface``: OpenAI chat chunks here; other APIs
(Responses, Anthropic Messages) translate the same chunks into their own events.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from modelsnest import billing
from modelsnest.catalog.pricing import Costing, bill
from modelsnest.catalog.types import PriceInfo
from modelsnest.errors import ModelsnestError, StreamBroken, UsageTransactionFailed
from modelsnest.gateway.admission import Admission, finish, usage_record
from modelsnest.gateway.costs import cost_fields, token_details
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.receipts import add_cost, chat_billing
from modelsnest.gateway.service import Gateway
from modelsnest.providers.errors import ProviderError
from modelsnest.providers.types import ChatChunk, Usage

CHECKPOINT_SECONDS = 5.0


class StreamEvent(NamedTuple):
    """One event for the client. ``error`` events are rendered by the edge's one error
    renderer, in the shape of the API that was called. (A named tuple: one is made per chunk,
    at a third of a frozen dataclass's cost.)"""

    data: dict[str, Any] | str | None = None
    event: str | None = None
    error: ModelsnestError | None = None


DONE = StreamEvent("[DONE]")


class StreamSink(Protocol):
    disconnected: asyncio.Event

    async def send(self, events: Sequence[StreamEvent], *, last: bool = False) -> None:
        """Write ``events``; raises ``OSError`` when the client is gone."""
        ...

    async def closed(self) -> None:
        """Return once the client has gone, with ``disconnected`` set (cancelled when the
        stream ends first)."""
        ...


@dataclass
class Outcome:
    """What a stream delivered, and how it ended."""

    usage: Usage | None = None
    usage_chunk: dict[str, Any] | None = None
    delivered_tokens: int = 0
    content_seen: bool = False
    cancelled: bool = False
    error: ProviderError | None = None
    ttft_ms: int | None = None
    last_chunk: dict[str, Any] | None = None
    first_chunk: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Settled:
    cost_nanos: int
    prompt_tokens: int
    completion_tokens: int
    costing: Costing | None = None


class ChatSurface(Protocol):
    """How a chat stream looks to the client of one API."""

    def chunk_events(self, chunk: ChatChunk) -> list[StreamEvent]: ...

    def tail_events(self, outcome: Outcome, settled: Settled | None) -> list[StreamEvent]: ...


@dataclass(frozen=True)
class OpenAIChatSurface:
    """OpenAI's ``chat.completion.chunk`` events, the cost in the final usage chunk (when
    asked with ``stream_options.include_usage``), then ``[DONE]``."""

    admission: Admission
    include_usage: bool

    def chunk_events(self, chunk: ChatChunk) -> list[StreamEvent]:
        return [StreamEvent(chunk.data)]

    def tail_events(self, outcome: Outcome, settled: Settled | None) -> list[StreamEvent]:
        if settled is None:
            return [
                StreamEvent(error=UsageTransactionFailed("the usage of this stream could not be recorded")),
                DONE,
            ]
        if outcome.error is not None:
            return [
                StreamEvent(error=StreamBroken(f"the upstream stream broke: {outcome.error.message}")),
                DONE,
            ]
        if not self.include_usage:
            return [DONE]
        return [StreamEvent(self._usage_chunk(outcome, settled)), DONE]

    def _usage_chunk(self, outcome: Outcome, settled: Settled) -> dict[str, Any]:
        chunk = dict(outcome.usage_chunk) if outcome.usage_chunk else {}
        if not chunk:
            template = outcome.last_chunk or outcome.first_chunk
            chunk = {
                "id": template.get("id"),
                "object": "chat.completion.chunk",
                "created": template.get("created"),
                "model": template.get("model"),
                "choices": [],
            }
        usage = dict(chunk.get("usage") or {})
        usage.setdefault("prompt_tokens", settled.prompt_tokens)
        usage.setdefault("completion_tokens", settled.completion_tokens)
        usage.setdefault("total_tokens", settled.prompt_tokens + settled.completion_tokens)
        chunk["usage"] = add_cost(usage, settled.cost_nanos, settled.costing)
        model = self.admission.model
        chunk["billing"] = chat_billing(model, self.admission.price, settled.cost_nanos, settled.costing)
        return chunk


@dataclass
class BilledStream:
    """A stream whose first chunk arrived: the route is fixed, nothing more is retried."""

    gateway: Gateway
    admission: Admission
    served: Served
    stream: AsyncIterator[ChatChunk]
    first: ChatChunk
    prompt_estimate: int
    started: float
    surface: ChatSurface
    endpoint: str = "chat"
    headers: dict[str, str] = field(default_factory=dict)

    async def run(self, sink: StreamSink) -> None:
        outcome = Outcome(first_chunk=self.first.data)
        pump = asyncio.create_task(self._pump(sink, outcome))
        cutter = asyncio.create_task(self._cut_off_after_disconnect(sink, pump))
        try:
            await pump
        except asyncio.CancelledError:  # the server cancelled the request
            outcome.cancelled = True
        finally:
            cutter.cancel()
            task = self.gateway.tasks.spawn(self._finalize(pump, outcome))
            try:
                settled = await asyncio.shield(task)
            except BaseException:
                settled = None
        with contextlib.suppress(OSError):
            tail = [] if outcome.cancelled else self.surface.tail_events(outcome, settled)
            await sink.send(tail, last=True)

    async def _cut_off_after_disconnect(self, sink: StreamSink, pump: asyncio.Task[None]) -> None:
        """Watches the client (one task for both jobs): the pump notices a disconnect at its
        next chunk and drains; an upstream that has gone silent is cut off here, once the
        drain time is over."""
        await sink.closed()
        await asyncio.sleep(self.gateway.settings.stream_drain_seconds + 0.5)
        if not pump.done():
            pump.cancel()

    async def _finalize(self, pump: asyncio.Task[None], outcome: Outcome) -> Settled | None:
        if not pump.done():
            pump.cancel()
            await asyncio.wait({pump})
        return await self._settle(outcome)

    async def _pump(self, sink: StreamSink, outcome: Outcome) -> None:
        chunk: ChatChunk | None = self.first
        next_checkpoint = time.monotonic() + CHECKPOINT_SECONDS
        try:
            while chunk is not None:
                if chunk.usage is not None:
                    outcome.usage = chunk.usage
                    if not chunk.data.get("choices"):
                        outcome.usage_chunk = chunk.data  # the surface sends usage last, with the cost
                        chunk = await _next(self.stream)
                        continue
                outcome.delivered_tokens += chunk.completion_tokens_delta
                if chunk.completion_tokens_delta:
                    outcome.content_seen = True
                if sink.disconnected.is_set():
                    outcome.cancelled = True
                    break
                outcome.last_chunk = chunk.data
                try:
                    await sink.send(self.surface.chunk_events(chunk))
                except OSError:
                    outcome.cancelled = True
                    break
                if outcome.ttft_ms is None:
                    outcome.ttft_ms = int((time.perf_counter() - self.started) * 1000)
                if time.monotonic() >= next_checkpoint:
                    next_checkpoint = time.monotonic() + CHECKPOINT_SECONDS
                    self._checkpoint(outcome)
                chunk = await _next(self.stream)
        except ProviderError as exc:
            outcome.error = exc
        except asyncio.CancelledError:
            outcome.cancelled = True
            await _close(self.stream)
            return
        if outcome.cancelled:
            await self._drain(outcome)
        await _close(self.stream)

    async def _drain(self, outcome: Outcome) -> None:
        """The client left: read on (bounded) for the upstream's usage, then cancel it."""
        if outcome.usage is not None:
            return
        try:
            async with asyncio.timeout(self.gateway.settings.stream_drain_seconds):
                while (chunk := await _next(self.stream)) is not None:
                    if chunk.usage is not None:
                        outcome.usage = chunk.usage
                        return
        except (TimeoutError, ProviderError):
            return

    def _checkpoint(self, outcome: Outcome) -> None:
        """Record the cost delivered so far, so a crash mid-stream is billed that by the sweeper."""
        hold_id = self.admission.hold_id
        if hold_id is None:
            return
        provisional = bill(
            self.admission.price, Usage(self.prompt_estimate, outcome.delivered_tokens)
        ).cost_nanos
        self.gateway.spawn(
            billing.checkpoint(
                self.gateway.sessions,
                hold_id=hold_id,
                provisional_cost_nanos=provisional,
                # A live stream must outlive the hold's TTL: the sweeper is for dead processes.
                extend_seconds=self.gateway.settings.hold_ttl_seconds,
            )
        )

    def _billed_usage(self, outcome: Outcome) -> Usage:
        """The upstream's usage (with its details) when the stream finished; else what was
        delivered (our prompt estimate and the tokens sent); nothing for an empty failure."""
        if outcome.usage is not None and outcome.error is None:
            return outcome.usage
        if outcome.delivered_tokens == 0 and not outcome.content_seen:
            return Usage(reported=False)  # a failed or empty answer costs nothing
        return Usage(self.prompt_estimate, outcome.delivered_tokens, reported=False)

    async def _settle(self, outcome: Outcome) -> Settled | None:
        used = self._billed_usage(outcome)
        prompt, completion = used.prompt_tokens, used.completion_tokens
        price = self.admission.price

        def meter(at: PriceInfo) -> Costing:
            return bill(at, used)

        costing = meter(price) if (prompt or completion) else None
        cost = costing.cost_nanos if costing is not None else 0
        if outcome.error is not None:
            status = "partial" if cost else "error"
        elif outcome.cancelled:
            status = "cancelled"
        else:
            status = "success"
        meta: dict[str, Any] = {}
        if not used.reported and cost:
            meta["usage"] = "counted locally"
        if outcome.error is not None:
            meta["upstream_error"] = outcome.error.message[:300]
        priced = cost_fields(costing, meter, self.served) if costing is not None else {}
        try:
            await finish(
                self.gateway,
                self.admission,
                cost_nanos=cost,
                tokens=prompt + completion,
                usage=usage_record(
                    self.admission,
                    self.endpoint,
                    provider_name=self.served.provider_name,
                    upstream_model=self.served.upstream_model,
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                    **token_details(used),
                    **priced,
                    latency_ms=int((time.perf_counter() - self.started) * 1000),
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
            return None  # finish logged it; the hold stays for the sweeper
        return Settled(cost, prompt, completion, costing)


async def _next(stream: AsyncIterator[ChatChunk]) -> ChatChunk | None:
    try:
        return await stream.__anext__()
    except StopAsyncIteration:
        return None


async def _close(stream: AsyncIterator[ChatChunk]) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()
