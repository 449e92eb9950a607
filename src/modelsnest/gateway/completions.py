"""Legacy text completions (``POST /api/v1/completions``) served by chat models.

The ``prompt`` (a string, or a list holding one string) becomes one user message; ``max_tokens``,
``temperature``, ``top_p``, ``n``, ``stop``, ``seed``, the penalties and ``user`` go through as
chat parameters; ``echo`` prepends the prompt to each text. The answer is OpenAI's
``text_completion`` object (``choices[].text``), streamed as ``text_completion`` chunks and, with
``stream_options.include_usage``, a last chunk with the usage and its cost, then ``[DONE]``.
Holds, billing and stream settlement are chat's."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from modelsnest.catalog.pricing import hold_cost
from modelsnest.errors import InvalidRequest, StreamBroken, UsageTransactionFailed
from modelsnest.exact_json import dumps
from modelsnest.gateway.admission import Admission, prompt_hold_tokens
from modelsnest.gateway.chat import open_chat_stream, output_cap, stream_headers, usage_bill
from modelsnest.gateway.chat_request import ChatRequest, parse_chat_request, parse_json_object, require_model
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.pipeline import Bill, Call, Incoming, Modality, Reply
from modelsnest.gateway.preferences import Preferences
from modelsnest.gateway.receipts import add_cost, chat_billing
from modelsnest.gateway.responses_format import new_id
from modelsnest.gateway.streaming import DONE, BilledStream, Outcome, Settled, StreamEvent
from modelsnest.providers.protocol import Provider
from modelsnest.providers.types import ChatChunk, ChatResult

PASSED = (
    "max_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "user",
)


@dataclass(frozen=True)
class CompletionRequest:
    chat: ChatRequest
    prompt: str
    echo: bool


def _prompt(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    if isinstance(value, list) and value and all(isinstance(p, str) for p in value):
        raise InvalidRequest(
            "send one prompt per request (a string, or a list of one string)", param="prompt"
        )
    raise InvalidRequest("prompt must be a string (token arrays are not supported)", param="prompt")


def parse_completion_request(raw: bytes) -> CompletionRequest:
    body = parse_json_object(raw)
    if body.get("model") in (None, "") and isinstance(body.get("models"), list) and body["models"]:
        body["model"] = body["models"][0]
    model = require_model(body)
    if "prompt" not in body:
        raise InvalidRequest("prompt is required", param="prompt")
    prompt = _prompt(body["prompt"])
    if body.get("suffix") not in (None, ""):
        raise InvalidRequest("suffix (fill-in-the-middle) is not supported", param="suffix")
    echo = body.get("echo") or False
    if not isinstance(echo, bool):
        raise InvalidRequest("echo must be a boolean", param="echo")
    chat: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    for name in ("models", "provider"):
        if name in body:
            chat[name] = body[name]
    for name in PASSED:
        if body.get(name) is not None:
            chat[name] = body[name]
    for name in ("stream", "stream_options"):
        if name in body:
            chat[name] = body[name]
    return CompletionRequest(parse_chat_request(dumps(chat)), prompt, echo)


def _text_choice(index: int, text: str, finish_reason: Any) -> dict[str, Any]:
    return {"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason}


class CompletionsModality(Modality[CompletionRequest, ChatResult]):
    endpoint = "completions"
    catalog_endpoint = "chat"

    def parse(self, incoming: Incoming) -> tuple[str, CompletionRequest]:
        request = parse_completion_request(incoming.body)
        return request.chat.model, request

    def preferences(self, request: CompletionRequest) -> Preferences | None:
        return request.chat.preferences

    async def hold(self, call: Call, request: CompletionRequest) -> int:
        output = output_cap(call.gateway, call.model, request.chat) * request.chat.n
        return hold_cost(call.price, prompt_hold_tokens(request.chat.prompt_estimate), output)

    def streams(self, request: CompletionRequest) -> bool:
        return request.chat.stream

    async def invoke(self, adapter: Provider, request: CompletionRequest, upstream_model: str) -> ChatResult:
        return await adapter.chat(request.chat.body, upstream_model)

    def bill(self, call: Call, request: CompletionRequest, result: ChatResult) -> Bill:
        return usage_bill(call, result.usage)

    async def answer(
        self, call: Call, request: CompletionRequest, result: ChatResult, bill: Bill, served: Served
    ) -> Reply:
        choices = []
        for position, choice in enumerate(result.body.get("choices") or ()):
            message = choice.get("message") or {}
            content = message.get("content")
            text = content if isinstance(content, str) else ""
            if request.echo:
                text = request.prompt + text
            choices.append(_text_choice(choice.get("index", position), text, choice.get("finish_reason")))
        usage = {
            "prompt_tokens": result.usage.prompt_tokens,
            "completion_tokens": result.usage.completion_tokens,
            "total_tokens": result.usage.total_tokens,
        }
        body = {
            "id": new_id("cmpl"),
            "object": "text_completion",
            "created": int(time.time()),
            "model": call.model.slug,
            "choices": choices,
            "usage": add_cost(usage, bill.cost_nanos, bill.costing),
            "billing": chat_billing(call.model, call.price, bill.cost_nanos, bill.costing),
        }
        return Reply(dumps(body))

    async def open_stream(self, call: Call, admission: Admission, request: CompletionRequest) -> BilledStream:
        stream, first, served = await open_chat_stream(call, admission, request.chat.body, self.endpoint)
        headers = stream_headers(admission, served)
        return BilledStream(
            gateway=call.gateway,
            admission=admission,
            served=served,
            stream=stream,
            first=first,
            prompt_estimate=request.chat.prompt_estimate,
            started=call.started,
            surface=TextCompletionSurface(admission, request, new_id("cmpl"), int(time.time())),
            endpoint=self.endpoint,
            headers=headers,
        )


@dataclass
class TextCompletionSurface:
    """Chat chunks as ``text_completion`` chunks."""

    admission: Admission
    request: CompletionRequest
    completion_id: str
    created: int
    echoed: bool = False

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.completion_id,
            "object": "text_completion",
            "created": self.created,
            "model": self.admission.model.slug,
            "choices": choices,
        }

    def chunk_events(self, chunk: ChatChunk) -> list[StreamEvent]:
        choices = []
        if self.request.echo and not self.echoed:
            self.echoed = True
            for index in range(self.request.chat.n):
                choices.append(_text_choice(index, self.request.prompt, None))
        for choice in chunk.data.get("choices") or ():
            delta = choice.get("delta") or {}
            content = delta.get("content")
            text = content if isinstance(content, str) else ""
            finish = choice.get("finish_reason")
            if text or finish:
                choices.append(_text_choice(choice.get("index", 0), text, finish))
        return [StreamEvent(self._chunk(choices))] if choices else []

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
        if not self.request.chat.include_usage:
            return [DONE]
        usage = {
            "prompt_tokens": settled.prompt_tokens,
            "completion_tokens": settled.completion_tokens,
            "total_tokens": settled.prompt_tokens + settled.completion_tokens,
        }
        chunk = self._chunk([])
        chunk["usage"] = add_cost(usage, settled.cost_nanos, settled.costing)
        chunk["billing"] = chat_billing(
            self.admission.model, self.admission.price, settled.cost_nanos, settled.costing
        )
        return [StreamEvent(chunk), DONE]


COMPLETIONS = CompletionsModality()
__all__ = ["COMPLETIONS", "CompletionsModality", "parse_completion_request"]
