"""OpenAI's Responses API (``POST /api/v1/responses``, what Codex CLI speaks) as a modality of
the pipeline, served by any chat upstream through ``responses_format``.

Billing is chat's, unchanged: the hold is the prompt estimate (the stored conversation of
``previous_response_id`` included) plus the output cap; settlement bills the upstream's usage
by dimension (cached input, reasoning, …); a stream is billed for what it delivered.

``store`` (default true) keeps the answer and the conversation it ends in
``stored_responses``, for ``GET /api/v1/responses/{id}`` and ``previous_response_id`` (the
caller's own user only). A stored response is served back only once its usage row says it was
billed, so a response whose settlement failed is never handed out.

A stream is OpenAI's typed event sequence, each event with its ``sequence_number``:
``response.created``, ``response.in_progress``, per output item ``response.output_item.added``
(text: ``response.content_part.added``, ``response.output_text.delta``…,
``response.output_text.done``, ``response.content_part.done``; function calls:
``response.function_call_arguments.delta``…, ``…done``), ``response.output_item.done``, and
``response.completed`` with the usage and its cost (``response.failed`` when the upstream broke).

Native: when the serving route's adapter speaks Responses itself (``ResponsesProvider`` with
``speaks_responses``: the real OpenAI API, or an ``openai``-kind provider with
``extra.responses_api: true``, see ``providers.openai_compat``), the client's body goes to the
upstream's ``/responses`` as it came (``responses_format.native_body``: ``model`` the upstream
model, ``store: false``, no routing fields, the stored conversation of
``previous_response_id`` as input items), and its answer or typed events come back untouched
but for ``model`` (the client's slug), ``store``/``previous_response_id`` (ours) and the usage's
cost and ``billing`` object. A native stream's terminal ``response.completed`` is withheld
until settlement and sent with the cost (``NativeResponsesSurface``); a stream cut short is
billed for what it delivered, like a translated one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from sqlalchemy import select

from modelsnest.catalog.pricing import hold_cost
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import StoredResponse, UsageLog
from modelsnest.errors import InvalidRequest, NotFound
from modelsnest.exact_json import dumps
from modelsnest.gateway.admission import Admission, call_routes, prompt_hold_tokens
from modelsnest.gateway.chat import first_chunk, stream_headers, usage_bill
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.pipeline import Bill, Call, Incoming, Modality, Reply
from modelsnest.gateway.preferences import Preferences
from modelsnest.gateway.receipts import add_cost, chat_billing
from modelsnest.gateway.responses_format import (
    ResponsesRequest,
    assistant_message,
    function_item,
    generated_texts,
    message_item,
    native_body,
    new_id,
    output_items,
    parse_responses_request,
    response_object,
    response_usage,
    text_part,
)
from modelsnest.gateway.service import Gateway
from modelsnest.gateway.streaming import BilledStream, Outcome, Settled, StreamEvent
from modelsnest.providers.protocol import Provider
from modelsnest.providers.tokens import count_tokens, estimate_prompt_tokens
from modelsnest.providers.types import ChatChunk, ChatResult, ResponsesProvider, ResponsesResult, Usage


def native(adapter: object) -> TypeGuard[ResponsesProvider]:
    """Whether the route's adapter takes the Responses body itself (no translation)."""
    return isinstance(adapter, ResponsesProvider) and bool(adapter.speaks_responses)


async def store_response(
    sessions: SessionFactory,
    *,
    call_user_id: int,
    key_id: int | None,
    request_id: str,
    request: ResponsesRequest,
    body: dict[str, Any],
) -> None:
    output = body.get("output") or []
    reply = assistant_message(output)
    conversation = [*request.conversation, *([reply] if reply else [])]
    async with sessions.begin() as session:
        session.add(
            StoredResponse(
                id=body["id"],
                user_id=call_user_id,
                api_token_id=key_id,
                request_id=request_id,
                model_slug=request.model,
                previous_response_id=request.previous_response_id,
                conversation=conversation,
                body=dumps(body).decode(),
            )
        )


async def load_response(sessions: SessionFactory, user_id: int, response_id: str) -> StoredResponse | None:
    """The user's stored response, once its usage row shows it was billed; else None."""
    async with sessions() as session:
        row = await session.scalar(
            select(StoredResponse).where(StoredResponse.id == response_id, StoredResponse.user_id == user_id)
        )
        if row is None:
            return None
        billed = await session.scalar(
            select(UsageLog.id).where(UsageLog.request_id == row.request_id, UsageLog.status == "success")
        )
    return row if billed is not None else None


async def get_response(sessions: SessionFactory, user_id: int, response_id: str) -> bytes:
    """``GET /responses/{id}``: 404 for an unknown id or another user's."""
    row = await load_response(sessions, user_id, response_id)
    if row is None:
        raise NotFound(f"no response with id '{response_id}'", code="RESPONSE_NOT_FOUND", param="response_id")
    return row.body.encode()


def _output_cap(gateway: Gateway, call: Call, request: ResponsesRequest) -> int:
    if request.max_output_tokens is not None:
        return request.max_output_tokens
    default = gateway.settings.default_max_output_tokens
    cap = call.model.max_output_tokens
    return min(cap, default) if cap else default


class ResponsesModality(Modality[ResponsesRequest, ChatResult | ResponsesResult]):
    endpoint = "responses"
    catalog_endpoint = "chat"

    def parse(self, incoming: Incoming) -> tuple[str, ResponsesRequest]:
        request = parse_responses_request(incoming.body)
        return request.model, request

    def preferences(self, request: ResponsesRequest) -> Preferences | None:
        return request.preferences

    async def hold(self, call: Call, request: ResponsesRequest) -> int:
        if request.previous_response_id is not None:
            previous = await load_response(
                call.gateway.sessions, call.caller.user_id, request.previous_response_id
            )
            if previous is None:
                raise InvalidRequest(
                    f"previous response with id '{request.previous_response_id}' not found",
                    code="previous_response_not_found",
                    param="previous_response_id",
                )
            request.history = list(previous.conversation)
        body = request.chat_body()
        estimate = estimate_prompt_tokens(body["messages"], body.get("tools"))
        request.prompt_estimate = estimate
        return hold_cost(call.price, prompt_hold_tokens(estimate), _output_cap(call.gateway, call, request))

    def streams(self, request: ResponsesRequest) -> bool:
        return request.stream

    async def invoke(
        self, adapter: Provider, request: ResponsesRequest, upstream_model: str
    ) -> ChatResult | ResponsesResult:
        if native(adapter):
            result = await adapter.responses(native_body(request), upstream_model)
            if not result.usage.reported:  # no usage from the upstream: our own count, never free
                output = sum(count_tokens(text) for text in generated_texts(result.body.get("output")))
                result.usage = Usage(request.prompt_estimate, output, reported=False)
            return result
        return await adapter.chat(request.chat_body(), upstream_model)

    def bill(self, call: Call, request: ResponsesRequest, result: ChatResult | ResponsesResult) -> Bill:
        return usage_bill(call, result.usage)

    async def answer(
        self,
        call: Call,
        request: ResponsesRequest,
        result: ChatResult | ResponsesResult,
        bill: Bill,
        served: Served,
    ) -> Reply:
        if isinstance(result, ResponsesResult):
            return await self._native_answer(call, request, result, bill)
        choices = result.body.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        raw_message = choice.get("message")
        message: dict[str, Any] = raw_message if isinstance(raw_message, dict) else {}
        usage = add_cost(response_usage(result.usage), bill.cost_nanos, bill.costing)
        body = response_object(
            request,
            response_id=new_id("resp"),
            created_at=int(time.time()),
            status="completed",
            output=output_items(message),
            usage=usage,
            finish_reason=choice.get("finish_reason"),
            model=call.model.slug,
        )
        body["billing"] = chat_billing(call.model, call.price, bill.cost_nanos, bill.costing)
        if request.store:
            await store_response(
                call.gateway.sessions,
                call_user_id=call.caller.user_id,
                key_id=call.caller.key_id,
                request_id=call.request_id,
                request=request,
                body=body,
            )
        return Reply(dumps(body))

    async def _native_answer(
        self, call: Call, request: ResponsesRequest, result: ResponsesResult, bill: Bill
    ) -> Reply:
        body = native_answer(dict(result.body), call.model.slug, request)
        raw_usage = body.get("usage")
        reported = isinstance(raw_usage, dict) and result.usage.reported
        usage = dict(raw_usage) if isinstance(raw_usage, dict) and reported else response_usage(result.usage)
        body["usage"] = add_cost(usage, bill.cost_nanos, bill.costing)
        body["billing"] = chat_billing(call.model, call.price, bill.cost_nanos, bill.costing)
        if request.store:
            await store_response(
                call.gateway.sessions,
                call_user_id=call.caller.user_id,
                key_id=call.caller.key_id,
                request_id=call.request_id,
                request=request,
                body=body,
            )
        return Reply(dumps(body))

    async def open_stream(self, call: Call, admission: Admission, request: ResponsesRequest) -> BilledStream:
        chat_body = request.chat_body()

        async def attempt(route: Any) -> tuple[Any, ChatChunk, bool]:
            adapter = call.gateway.pool.get(route.provider)
            stream: Any
            passthrough = native(adapter)
            if native(adapter):  # (again, for the type checker)
                stream = adapter.responses_stream(native_body(request), route.upstream_model)
            else:
                stream = adapter.chat_stream(chat_body, route.upstream_model)
            first = await first_chunk(stream)
            return stream, first, passthrough

        (stream, first, passthrough), served = await call_routes(
            call.gateway, admission, self.endpoint, call.started, attempt
        )
        headers = stream_headers(admission, served)
        surface: ResponsesSurface | NativeResponsesSurface
        if passthrough:
            surface = NativeResponsesSurface(admission, request)
        else:
            surface = ResponsesSurface(admission, request, new_id("resp"), int(time.time()))
        return ResponsesStream(
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
            responses=surface,
            request=request,
        )


@dataclass
class _Item:
    kind: str  # message | function_call | reasoning
    item_id: str
    output_index: int
    text: str = ""
    call_id: str = ""
    name: str = ""
    done: bool = False


@dataclass
class ResponsesSurface:
    """Chat chunks as the Responses API's typed events (see the module docstring)."""

    admission: Admission
    request: ResponsesRequest
    response_id: str
    created_at: int
    sequence: int = 0
    started: bool = False
    items: list[_Item] = field(default_factory=list)
    open_text: _Item | None = None
    open_reasoning: _Item | None = None
    calls: dict[int, _Item] = field(default_factory=dict)
    finish_reason: str | None = None
    final: dict[str, Any] | None = None

    def _event(self, kind: str, **data: Any) -> StreamEvent:
        event = StreamEvent({"type": kind, **data, "sequence_number": self.sequence}, event=kind)
        self.sequence += 1
        return event

    def _snapshot(self, status: str, **extra: Any) -> dict[str, Any]:
        return response_object(
            self.request,
            response_id=self.response_id,
            created_at=self.created_at,
            status=status,
            output=[],
            usage=None,
            model=self.admission.model.slug,
            **extra,
        )

    def _close_text(self) -> list[StreamEvent]:
        item = self.open_text
        if item is None:
            return []
        self.open_text = None
        item.done = True
        common = {"item_id": item.item_id, "output_index": item.output_index, "content_index": 0}
        return [
            self._event("response.output_text.done", **common, text=item.text, logprobs=[]),
            self._event("response.content_part.done", **common, part=text_part(item.text)),
            self._event("response.output_item.done", output_index=item.output_index, item=self._item(item)),
        ]

    def _close_reasoning(self) -> list[StreamEvent]:
        item = self.open_reasoning
        if item is None:
            return []
        self.open_reasoning = None
        item.done = True
        common = {"item_id": item.item_id, "output_index": item.output_index, "content_index": 0}
        return [
            self._event("response.reasoning_text.done", **common, text=item.text),
            self._event("response.output_item.done", output_index=item.output_index, item=self._item(item)),
        ]

    def _reasoning(self, text: str) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        item = self.open_reasoning
        if item is None:
            events.extend([*self._close_text(), *self._close_calls()])
            item = _Item("reasoning", new_id("rs"), len(self.items))
            self.open_reasoning = item
            events.append(self._add_item(item))
        item.text += text
        events.append(
            self._event(
                "response.reasoning_text.delta",
                item_id=item.item_id,
                output_index=item.output_index,
                content_index=0,
                delta=text,
            )
        )
        return events

    def _close_calls(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for item in self.calls.values():
            if item.done:
                continue
            item.done = True
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item.item_id,
                    output_index=item.output_index,
                    arguments=item.text,
                )
            )
            events.append(
                self._event(
                    "response.output_item.done", output_index=item.output_index, item=self._item(item)
                )
            )
        return events

    def _add_item(self, item: _Item) -> StreamEvent:
        """A new output item: kept for the final response, announced in progress."""
        self.items.append(item)
        return self._event(
            "response.output_item.added", output_index=item.output_index, item=self._item(item, "in_progress")
        )

    def _item(self, item: _Item, status: str = "completed") -> dict[str, Any]:
        if item.kind == "message":
            return message_item(item.text, item_id=item.item_id, status=status)
        if item.kind == "reasoning":
            content = [{"type": "reasoning_text", "text": item.text}] if status == "completed" else []
            return {
                "id": item.item_id,
                "type": "reasoning",
                "summary": [],
                "content": content,
                "status": status,
            }
        return function_item(item.call_id, item.name, item.text, item_id=item.item_id, status=status)

    def chunk_events(self, chunk: ChatChunk) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if not self.started:
            self.started = True
            events.append(self._event("response.created", response=self._snapshot("in_progress")))
            events.append(self._event("response.in_progress", response=self._snapshot("in_progress")))
        for choice in chunk.data.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                events.extend(self._reasoning(reasoning))
            content = delta.get("content")
            if isinstance(content, str) and content:
                events.extend(self._text(content))
            for call in delta.get("tool_calls") or ():
                events.extend(self._tool_call(call))
        return events

    def _text(self, content: str) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        item = self.open_text
        if item is None:
            events.extend([*self._close_reasoning(), *self._close_calls()])
            item = _Item("message", new_id("msg"), len(self.items))
            self.open_text = item
            events.append(self._add_item(item))
            events.append(
                self._event(
                    "response.content_part.added",
                    item_id=item.item_id,
                    output_index=item.output_index,
                    content_index=0,
                    part=text_part(""),
                )
            )
        item.text += content
        events.append(
            self._event(
                "response.output_text.delta",
                item_id=item.item_id,
                output_index=item.output_index,
                content_index=0,
                delta=content,
                logprobs=[],
            )
        )
        return events

    def _tool_call(self, call: Any) -> list[StreamEvent]:
        if not isinstance(call, dict):
            return []
        events: list[StreamEvent] = []
        index = call.get("index", 0)
        function = call.get("function") or {}
        item = self.calls.get(index)
        if item is None:
            events.extend([*self._close_reasoning(), *self._close_text()])
            item = _Item(
                "function_call",
                new_id("fc"),
                len(self.items),
                call_id=str(call.get("id") or new_id("call")),
                name=str(function.get("name") or ""),
            )
            self.calls[index] = item
            events.append(self._add_item(item))
        elif function.get("name") and not item.name:
            item.name = str(function["name"])
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            item.text += arguments
            events.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item.item_id,
                    output_index=item.output_index,
                    delta=arguments,
                )
            )
        return events

    def finish(self, outcome: Outcome, settled: Settled | None) -> dict[str, Any]:
        """The final Response object (what ``response.completed`` carries and what is stored)."""
        if self.final is not None:
            return self.final
        output = [self._item(item) for item in self.items]
        if settled is None or outcome.error is not None:
            message = (
                "the usage of this stream could not be recorded"
                if settled is None
                else f"the upstream stream broke: {outcome.error.message if outcome.error else ''}"
            )
            self.final = self._snapshot_with(
                output, "failed", None, {"code": "server_error", "message": message}
            )
            return self.final
        used = (
            outcome.usage
            if outcome.usage is not None
            else Usage(settled.prompt_tokens, settled.completion_tokens)
        )
        usage = add_cost(response_usage(used), settled.cost_nanos, settled.costing)
        body = self._snapshot_with(output, "completed", usage, None)
        body["billing"] = chat_billing(
            self.admission.model, self.admission.price, settled.cost_nanos, settled.costing
        )
        self.final = body
        return body

    def _snapshot_with(
        self,
        output: list[dict[str, Any]],
        status: str,
        usage: dict[str, Any] | None,
        error: dict[str, Any] | None,
    ) -> dict[str, Any]:
        return response_object(
            self.request,
            response_id=self.response_id,
            created_at=self.created_at,
            status=status,
            output=output,
            usage=usage,
            finish_reason=self.finish_reason,
            error=error,
            model=self.admission.model.slug,
        )

    def tail_events(self, outcome: Outcome, settled: Settled | None) -> list[StreamEvent]:
        events = [*self._close_reasoning(), *self._close_text(), *self._close_calls()]
        body = self.finish(outcome, settled)
        if body["status"] == "failed":
            return [*events, self._event("response.failed", response=body)]
        kind = "response.incomplete" if body["status"] == "incomplete" else "response.completed"
        return [*events, self._event(kind, response=body)]


def native_answer(body: dict[str, Any], slug: str, request: ResponsesRequest) -> dict[str, Any]:
    """An upstream's Response as ours: the client's slug, our ``store`` and previous id."""
    body["model"] = slug
    body["store"] = request.store
    body["previous_response_id"] = request.previous_response_id
    return body


@dataclass
class NativeResponsesSurface:
    """A Responses upstream's typed events passed through (``model`` the client's slug in
    the Response snapshots they carry). The terminal ``response.completed`` /
    ``response.incomplete`` is held back and sent after settlement, with the cost."""

    admission: Admission
    request: ResponsesRequest
    last_sequence: int = -1
    snapshot: dict[str, Any] = field(default_factory=dict)
    terminal: dict[str, Any] | None = None
    final: dict[str, Any] | None = None

    def _response(self, data: dict[str, Any]) -> dict[str, Any]:
        response = data.get("response")
        if not isinstance(response, dict):
            return data
        self.snapshot = native_answer(dict(response), self.admission.model.slug, self.request)
        return {**data, "response": self.snapshot}

    def chunk_events(self, chunk: ChatChunk) -> list[StreamEvent]:
        data = chunk.data
        kind = data.get("type")
        if not isinstance(kind, str):
            return []
        if kind in ("response.completed", "response.incomplete"):
            self.terminal = data  # no usage from the upstream: sent with our count, after billing
            return []
        if isinstance(data.get("sequence_number"), int):
            self.last_sequence = data["sequence_number"]
        return [StreamEvent(self._response(data), event=kind)]

    def finish(self, outcome: Outcome, settled: Settled | None) -> dict[str, Any]:
        """The final Response (what the terminal event carries and what is stored)."""
        if self.final is not None:
            return self.final
        terminal = outcome.usage_chunk or self.terminal
        if settled is None or outcome.error is not None or terminal is None:
            message = (
                "the usage of this stream could not be recorded"
                if settled is None
                else f"the upstream stream broke: {outcome.error.message if outcome.error else ''}"
            )
            self.final = {
                **self.snapshot,
                "status": "failed",
                "error": {"code": "server_error", "message": message},
            }
            return self.final
        self.terminal = terminal
        body = self._response(terminal).get("response")
        body = dict(body) if isinstance(body, dict) else {**self.snapshot, "status": "completed"}
        used = outcome.usage or Usage(settled.prompt_tokens, settled.completion_tokens, reported=False)
        raw_usage = body.get("usage")
        usage = dict(raw_usage) if isinstance(raw_usage, dict) and outcome.usage else response_usage(used)
        body["usage"] = add_cost(usage, settled.cost_nanos, settled.costing)
        body["billing"] = chat_billing(
            self.admission.model, self.admission.price, settled.cost_nanos, settled.costing
        )
        self.final = body
        return body

    def tail_events(self, outcome: Outcome, settled: Settled | None) -> list[StreamEvent]:
        body = self.finish(outcome, settled)
        self.last_sequence += 1
        if body.get("status") == "failed":
            kind = "response.failed"
        else:
            kind = str((self.terminal or {}).get("type") or "response.completed")
        return [
            StreamEvent({"type": kind, "sequence_number": self.last_sequence, "response": body}, event=kind)
        ]


@dataclass(kw_only=True)
class ResponsesStream(BilledStream):
    """A billed stream that also stores its Response once it was billed (``store``)."""

    responses: ResponsesSurface | NativeResponsesSurface
    request: ResponsesRequest

    async def _settle(self, outcome: Outcome) -> Settled | None:
        settled = await super()._settle(outcome)
        if settled is None or outcome.cancelled or outcome.error is not None or not self.request.store:
            return settled
        # Close the surface's items now so the stored body is the one the client is sent.
        body = self.responses.finish(outcome, settled)
        if body["status"] in ("completed", "incomplete"):
            try:
                await store_response(
                    self.gateway.sessions,
                    call_user_id=self.admission.caller.user_id,
                    key_id=self.admission.caller.key_id,
                    request_id=self.admission.request_id,
                    request=self.request,
                    body=body,
                )
            except Exception:  # the answer was billed and is being sent; only retrieval is lost
                return settled
        return settled


RESPONSES = ResponsesModality()
__all__ = ["RESPONSES", "ResponsesModality", "get_response", "load_response"]
