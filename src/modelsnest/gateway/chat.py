"""Chat completions as a modality of the pipeline.

Hold = the most the call can cost: the prompt estimate (with a margin) at the model's most
expensive input dimension (a cache write, when priced) plus the output cap
(``max_completion_tokens``/``max_tokens``, else the smaller of the model's cap and
``default_max_output_tokens``) times ``n`` at its most expensive output dimension
(``pricing.hold_cost``). Settlement bills the upstream's reported usage by dimension (cached,
cache-write, reasoning, audio tokens, context tier: ``pricing.bill``); should it exceed the
hold, the ledger takes the excess from the available balance.
"""

from __future__ import annotations

from typing import Any

from modelsnest.catalog.pricing import Costing, bill, hold_cost
from modelsnest.catalog.types import ModelInfo, PriceInfo
from modelsnest.exact_json import dumps
from modelsnest.gateway.admission import Admission, call_routes, prompt_hold_tokens
from modelsnest.gateway.chat_request import ChatRequest, parse_chat_request
from modelsnest.gateway.costs import token_details
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.pipeline import Bill, Call, Incoming, Modality, Reply
from modelsnest.gateway.preferences import Preferences
from modelsnest.gateway.receipts import add_cost, chat_billing
from modelsnest.gateway.service import Gateway
from modelsnest.gateway.streaming import BilledStream, OpenAIChatSurface
from modelsnest.providers.errors import ProviderProtocolError
from modelsnest.providers.protocol import Provider
from modelsnest.providers.types import ChatChunk, ChatResult, Usage


def usage_bill(call: Call, usage: Usage) -> Bill:
    """The bill of a finished token request (chat and every API built on it), by dimension."""
    latency = call.elapsed_ms()
    costing = bill(call.price, usage)

    def meter(price: PriceInfo) -> Costing:
        return bill(price, usage)

    return Bill(
        cost_nanos=costing.cost_nanos,
        tokens=usage.total_tokens,
        usage={
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            **token_details(usage),
            "latency_ms": latency,
            "ttft_ms": latency,
            "meta": None if usage.reported else {"usage": "counted locally"},
        },
        costing=costing,
        meter=meter,
    )


def output_cap(gateway: Gateway, model: ModelInfo, request: ChatRequest) -> int:
    if request.max_output_tokens is not None:
        return request.max_output_tokens
    default = gateway.settings.default_max_output_tokens
    return min(model.max_output_tokens, default) if model.max_output_tokens else default


async def first_chunk(stream: Any) -> ChatChunk:
    """The stream's first chunk (which fixes the route); a stream that fails before it is closed."""
    try:
        first: ChatChunk = await stream.__anext__()
    except StopAsyncIteration as exc:
        raise ProviderProtocolError("the upstream ended the stream without any event") from exc
    except BaseException:
        await stream.aclose()
        raise
    return first


def stream_headers(admission: Admission, served: Served) -> dict[str, str]:
    """A stream's response headers: its limits and who serves it (the cost comes in the stream)."""
    headers = admission.limit_state.headers()
    headers["X-Modelsnest-Provider"] = served.provider_name
    headers["X-Modelsnest-Upstream-Model"] = served.upstream_model
    return headers


async def open_chat_stream(
    call: Call, admission: Admission, body: dict[str, Any], endpoint: str
) -> tuple[Any, ChatChunk, Served]:
    """Open the upstream stream on the first route that answers with a first chunk."""

    async def attempt(route: Any) -> tuple[Any, ChatChunk]:
        stream = call.gateway.pool.get(route.provider).chat_stream(body, route.upstream_model)
        return stream, await first_chunk(stream)

    (stream, first), served = await call_routes(call.gateway, admission, endpoint, call.started, attempt)
    return stream, first, served


class ChatModality(Modality[ChatRequest, ChatResult]):
    endpoint = "chat"

    def parse(self, incoming: Incoming) -> tuple[str, ChatRequest]:
        request = parse_chat_request(incoming.body)
        return request.model, request

    def preferences(self, request: ChatRequest) -> Preferences | None:
        return request.preferences

    async def hold(self, call: Call, request: ChatRequest) -> int:
        output = output_cap(call.gateway, call.model, request) * request.n
        return hold_cost(call.price, prompt_hold_tokens(request.prompt_estimate), output)

    def streams(self, request: ChatRequest) -> bool:
        return request.stream

    async def invoke(self, adapter: Provider, request: ChatRequest, upstream_model: str) -> ChatResult:
        return await adapter.chat(request.body, upstream_model)

    def bill(self, call: Call, request: ChatRequest, result: ChatResult) -> Bill:
        return usage_bill(call, result.usage)

    async def answer(
        self, call: Call, request: ChatRequest, result: ChatResult, bill: Bill, served: Served
    ) -> Reply:
        body = result.body
        usage = body.get("usage")
        if not isinstance(usage, dict):
            usage = {
                "prompt_tokens": result.usage.prompt_tokens,
                "completion_tokens": result.usage.completion_tokens,
                "total_tokens": result.usage.total_tokens,
            }
            body["usage"] = usage
        add_cost(usage, bill.cost_nanos, bill.costing)
        body["billing"] = chat_billing(call.model, call.price, bill.cost_nanos, bill.costing)
        return Reply(dumps(body))

    async def open_stream(self, call: Call, admission: Admission, request: ChatRequest) -> BilledStream:
        stream, first, served = await open_chat_stream(call, admission, request.body, self.endpoint)
        headers = stream_headers(admission, served)
        return BilledStream(
            gateway=call.gateway,
            admission=admission,
            served=served,
            stream=stream,
            first=first,
            prompt_estimate=request.prompt_estimate,
            started=call.started,
            surface=OpenAIChatSurface(admission, request.include_usage),
            endpoint=self.endpoint,
            headers=headers,
        )


CHAT = ChatModality()
__all__ = ["CHAT", "ChatModality", "open_chat_stream", "output_cap", "usage_bill"]
