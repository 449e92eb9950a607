"""Anthropic Messages (``POST /api/v1/messages``, what Claude Code speaks) as a modality of
the pipeline, serving the catalog's chat models.

An upstream of the ``anthropic`` kind (``providers.types.MessagesProvider``) gets the body as it
came (``model`` set to its upstream id, the client's ``anthropic-beta`` flags sent on) and its
answer is passed back; every other upstream is called with the chat completions translation
(``messages_format``) and its answer translated back. Either way the client sees Anthropic's
wire format with ``model`` the slug it asked for, ``usage.cost``/``cost_details`` and a
``billing`` object as extra fields (the SDK keeps them).

Hold and bill are chat's: the prompt estimate of the translated prompt plus ``max_tokens``
(required here), settled from the upstream's usage by dimension — Anthropic's
``cache_read_input_tokens`` at the cached-input price, ``cache_creation_input_tokens`` at the
cache-write price (the 1-hour share at ``cache_write_1h``). Streams are ``BilledStream``s with an
``AnthropicSurface``: ``message_start``, ``ping``, per block ``content_block_start`` /
``content_block_delta`` (``text_delta``, ``input_json_delta``, ``thinking_delta`` then
``signature_delta``) / ``content_block_stop``, then — after billing — ``message_delta`` with the
stop reason and the whole usage (its cost included) and ``message_stop``. A broken stream ends
with an ``error`` event (``overloaded_error`` when the upstream said it was overloaded, the
type Anthropic's clients retry on); what it delivered is billed. An upstream's 529 or 503
before the first byte moves on to the next route like any 5xx; when it was the last route's
answer the client gets Anthropic's 529 ``overloaded_error`` (``fallback.UpstreamOverloaded``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelsnest.auth.caller import Caller
from modelsnest.catalog.pricing import hold_cost
from modelsnest.errors import StreamBroken, UpstreamOverloaded, UsageTransactionFailed
from modelsnest.exact_json import dumps
from modelsnest.gateway.admission import Admission, call_routes, prompt_hold_tokens, resolve_model
from modelsnest.gateway.chat import first_chunk, stream_headers, usage_bill
from modelsnest.gateway.fallback import Served, is_overloaded
from modelsnest.gateway.messages_format import (
    STOP_REASONS,
    MessagesRequest,
    anthropic_usage,
    message_id,
    parse_messages_request,
    to_message,
)
from modelsnest.gateway.pipeline import Bill, Call, Incoming, Modality, Reply
from modelsnest.gateway.receipts import add_cost, chat_billing
from modelsnest.gateway.service import Gateway
from modelsnest.gateway.streaming import BilledStream, Outcome, Settled, StreamEvent
from modelsnest.providers.protocol import Provider
from modelsnest.providers.tokens import count_tokens as count_text_tokens
from modelsnest.providers.types import ChatChunk, MessagesProvider, MessagesResult, Usage

__all__ = ["AnthropicSurface", "MessagesModality", "count_tokens"]


def block_texts(content: Any) -> list[str]:
    """The generated text of a message's content blocks (text, thinking, tool inputs)."""
    texts: list[str] = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        for key in ("text", "thinking"):
            if isinstance(block.get(key), str):
                texts.append(block[key])
        if block.get("type") == "tool_use":
            texts.append(dumps(block.get("input") or {}).decode())
    return texts


def _event(data: dict[str, Any]) -> StreamEvent:
    return StreamEvent(data, event=str(data["type"]))


@dataclass
class AnthropicSurface:
    """Anthropic's stream events for a chat stream: OpenAI chunks translated (``native``
    False) or an Anthropic upstream's events passed through (``native`` True). Either way the
    closing ``message_delta`` and ``message_stop`` are written here, after settlement."""

    admission: Admission
    model: str
    request_id: str
    prompt_estimate: int
    native: bool
    started: bool = False
    stop_reason: str | None = None
    stop_sequence: str | None = None
    _block: int = -1  # index of the open content block, -1 when none is
    _block_type: str | None = None
    _blocks: int = 0
    _tools: dict[int, int] = field(default_factory=dict)  # OpenAI tool index → block index
    _tool_ids: dict[int, Any] = field(default_factory=dict)

    # -- translated (OpenAI chunks) --------------------------------------------------------

    def _start(self, upstream_id: Any) -> list[StreamEvent]:
        self.started = True
        message: dict[str, Any] = {
            "id": message_id(upstream_id, self.request_id),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": self.prompt_estimate,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 0,
            },
        }
        return [_event({"type": "message_start", "message": message}), _event({"type": "ping"})]

    def _close(self) -> list[StreamEvent]:
        if self._block < 0:
            return []
        events = []
        if self._block_type == "thinking":
            delta = {"type": "signature_delta", "signature": ""}
            events.append(_event({"type": "content_block_delta", "index": self._block, "delta": delta}))
        events.append(_event({"type": "content_block_stop", "index": self._block}))
        self._block, self._block_type = -1, None
        return events

    def _open(self, block: dict[str, Any]) -> list[StreamEvent]:
        events = self._close()
        self._block, self._block_type = self._blocks, str(block["type"])
        self._blocks += 1
        events.append(_event({"type": "content_block_start", "index": self._block, "content_block": block}))
        return events

    def _delta(self, delta: dict[str, Any]) -> StreamEvent:
        return _event({"type": "content_block_delta", "index": self._block, "delta": delta})

    def _translate(self, data: dict[str, Any]) -> list[StreamEvent]:
        events = [] if self.started else self._start(data.get("id"))
        for choice in data.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                if self._block_type != "thinking":
                    events += self._open({"type": "thinking", "thinking": "", "signature": ""})
                events.append(self._delta({"type": "thinking_delta", "thinking": reasoning}))
            text = delta.get("content")
            if isinstance(text, str) and text:
                if self._block_type != "text":
                    events += self._open({"type": "text", "text": ""})
                events.append(self._delta({"type": "text_delta", "text": text}))
            for call in delta.get("tool_calls") or ():
                index = call.get("index", 0)
                function = call.get("function") or {}
                call_id = call.get("id")
                if index in self._tools and call_id and self._tool_ids.get(index) not in (None, call_id):
                    del self._tools[index]  # a new call under a reused index (upstreams without indexes)
                if index not in self._tools:
                    self._tool_ids[index] = call_id
                    block = {
                        "type": "tool_use",
                        "id": call.get("id") or "",
                        "name": function.get("name") or "",
                    }
                    events += self._open({**block, "input": {}})
                    self._tools[index] = self._block
                arguments = function.get("arguments")
                if isinstance(arguments, str) and arguments and self._tools[index] == self._block:
                    events.append(self._delta({"type": "input_json_delta", "partial_json": arguments}))
            finish = choice.get("finish_reason")
            if finish:
                self.stop_reason = STOP_REASONS.get(str(finish), "end_turn")
        return events

    # -- native (Anthropic events) ----------------------------------------------------------

    def _pass(self, data: dict[str, Any]) -> list[StreamEvent]:
        kind = data.get("type")
        if kind == "message_start":
            self.started = True
            message = dict(data.get("message") or {})
            message["model"] = self.model
            return [_event({**data, "message": message})]
        if kind == "message_delta":
            delta = data.get("delta") or {}
            self.stop_reason = delta.get("stop_reason") or self.stop_reason
            self.stop_sequence = delta.get("stop_sequence")
            return []  # written after settlement, with the whole usage and its cost
        if not isinstance(kind, str):
            return []
        return [_event(data)]

    # -- ChatSurface ----------------------------------------------------------------------

    def chunk_events(self, chunk: ChatChunk) -> list[StreamEvent]:
        return self._pass(chunk.data) if self.native else self._translate(chunk.data)

    def tail_events(self, outcome: Outcome, settled: Settled | None) -> list[StreamEvent]:
        if settled is None:
            error = UsageTransactionFailed("the usage of this stream could not be recorded")
            return [StreamEvent(error=error, event="error")]
        if outcome.error is not None:
            # An overloaded upstream mid-stream (Anthropic's in-stream ``overloaded_error``)
            # is told as such: Anthropic's clients retry on it.
            code = UpstreamOverloaded.default_code if is_overloaded(outcome.error) else None
            broken = StreamBroken(f"the upstream stream broke: {outcome.error.message}", code=code)
            return [StreamEvent(error=broken, event="error")]
        events = [] if self.started else self._start(None)
        if outcome.usage_chunk is not None:  # withheld by the stream: it carried the usage
            events += self.chunk_events(ChatChunk(outcome.usage_chunk))
        if not self.native:
            events += self._close()
        used = outcome.usage or Usage(settled.prompt_tokens, settled.completion_tokens, reported=False)
        usage = add_cost(anthropic_usage(used), settled.cost_nanos, settled.costing)
        stop = self.stop_reason or "end_turn"
        if stop == "end_turn" and self._tools:
            stop = "tool_use"
        events.append(
            _event(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": self.stop_sequence},
                    "usage": usage,
                    "billing": chat_billing(
                        self.admission.model, self.admission.price, settled.cost_nanos, settled.costing
                    ),
                }
            )
        )
        events.append(_event({"type": "message_stop"}))
        return events


class MessagesModality(Modality[MessagesRequest, MessagesResult]):
    """One per request: it carries the client's ``anthropic-beta`` flags."""

    endpoint = "messages"
    catalog_endpoint = "chat"

    def __init__(self, beta: str | None = None) -> None:
        self.beta = beta

    def parse(self, incoming: Incoming) -> tuple[str, MessagesRequest]:
        request = parse_messages_request(incoming.body, self.beta)
        return request.model, request

    async def hold(self, call: Call, request: MessagesRequest) -> int:
        return hold_cost(call.price, prompt_hold_tokens(request.prompt_estimate), request.max_tokens)

    def streams(self, request: MessagesRequest) -> bool:
        return request.stream

    async def invoke(
        self, adapter: Provider, request: MessagesRequest, upstream_model: str
    ) -> MessagesResult:
        if isinstance(adapter, MessagesProvider):
            result = await adapter.messages(request.body, upstream_model, request.beta)
            if not result.usage.reported:  # no usage from the upstream: our own count, never free
                output = sum(count_text_tokens(text) for text in block_texts(result.message.get("content")))
                result.usage = Usage(request.prompt_estimate, output, reported=False)
                result.message.pop("usage", None)
            return result
        chat = await adapter.chat(request.chat_body, upstream_model)
        return MessagesResult(to_message(chat.body, request.model, chat.usage, ""), chat.usage)

    def bill(self, call: Call, request: MessagesRequest, result: MessagesResult) -> Bill:
        return usage_bill(call, result.usage)

    async def answer(
        self, call: Call, request: MessagesRequest, result: MessagesResult, bill: Bill, served: Served
    ) -> Reply:
        message = dict(result.message)
        message["id"] = message_id(message.get("id"), call.request_id)
        message["model"] = request.model
        usage = message.get("usage")
        message["usage"] = add_cost(
            dict(usage) if isinstance(usage, dict) else anthropic_usage(result.usage),
            bill.cost_nanos,
            bill.costing,
        )
        message["billing"] = chat_billing(call.model, call.price, bill.cost_nanos, bill.costing)
        return Reply(dumps(message))

    async def open_stream(self, call: Call, admission: Admission, request: MessagesRequest) -> BilledStream:
        async def attempt(route: Any) -> tuple[Any, ChatChunk, bool]:
            adapter = call.gateway.pool.get(route.provider)
            native = isinstance(adapter, MessagesProvider)
            if native:
                stream = adapter.messages_stream(request.body, route.upstream_model, request.beta)
            else:
                stream = adapter.chat_stream(request.chat_body, route.upstream_model)
            first = await first_chunk(stream)
            return stream, first, native

        (stream, first, native), served = await call_routes(
            call.gateway, admission, self.endpoint, call.started, attempt
        )
        headers = stream_headers(admission, served)
        surface = AnthropicSurface(admission, request.model, call.request_id, request.prompt_estimate, native)
        return BilledStream(
            gateway=call.gateway,
            admission=admission,
            served=served,
            stream=stream,
            first=first,
            prompt_estimate=request.prompt_estimate,
            started=call.started,
            surface=surface,
            endpoint=self.endpoint,
            headers=headers,
        )


async def count_tokens(gateway: Gateway, caller: Caller, raw: bytes) -> dict[str, Any]:
    """``POST /messages/count_tokens``: free, no upstream call — the estimate holds are made
    with (``tokens.estimate_prompt_tokens`` of the translated prompt), for a model the key may use."""
    request = parse_messages_request(raw, counting=True)
    await resolve_model(gateway, caller, request.model, MessagesModality.catalog_endpoint or "chat")
    return {"input_tokens": request.prompt_estimate}
