"""Chat completions: admission, fallback across routes, exact settlement, the response.

Hold = the most the call can cost: the prompt estimate (with a margin) plus the output cap
(``max_completion_tokens``/``max_tokens``, else the smaller of the model's cap and
``default_max_output_tokens``) times ``n``. Settlement charges the upstream's reported usage;
should it exceed the hold, the ledger takes the excess from the available balance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from modelsnest.auth.key_verifier import ApiKeyPrincipal
from modelsnest.catalog.pricing import chat_cost, require_price
from modelsnest.catalog.types import ModelInfo
from modelsnest.exact_json import dumps, money
from modelsnest.gateway import idempotency
from modelsnest.gateway.admission import (
    Admission,
    admit,
    call_routes,
    finish_served,
    resolve_model,
)
from modelsnest.gateway.chat_request import ChatRequest, parse_chat_request
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.receipts import chat_billing
from modelsnest.gateway.service import Gateway
from modelsnest.providers.errors import ProviderProtocolError
from modelsnest.providers.tokens import estimate_prompt_tokens
from modelsnest.providers.types import ChatChunk, ChatResult

ENDPOINT = "chat"


@dataclass
class ChatReply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamStart:
    """A stream whose first chunk arrived: the route is fixed, nothing more is retried."""

    gateway: Gateway
    admission: Admission
    request: ChatRequest
    served: Served
    stream: Any
    first: ChatChunk
    prompt_estimate: int
    started: float
    headers: dict[str, str]


def output_cap(gateway: Gateway, model: ModelInfo, request: ChatRequest) -> int:
    if request.max_output_tokens is not None:
        return request.max_output_tokens
    default = gateway.settings.default_max_output_tokens
    return min(model.max_output_tokens, default) if model.max_output_tokens else default


def response_headers(admission: Admission, served: Served) -> dict[str, str]:
    headers = admission.limit_state.headers()
    headers["X-Modelsnest-Provider"] = served.provider_name
    headers["X-Modelsnest-Upstream-Model"] = served.upstream_model
    return headers


async def _prepare(
    gateway: Gateway, principal: ApiKeyPrincipal, raw: bytes, request_id: str
) -> tuple[ChatRequest, ModelInfo, Admission, int]:
    request = parse_chat_request(raw)
    model = await resolve_model(gateway, principal, request.model, ENDPOINT)
    price = require_price(model)
    prompt_estimate = estimate_prompt_tokens(request.body["messages"], request.body.get("tools"))
    hold_prompt = prompt_estimate + prompt_estimate // 4 + 16
    hold_nanos = chat_cost(price, hold_prompt, output_cap(gateway, model, request) * request.n)
    admission = await admit(
        gateway, principal, model, price, request_id=request_id, hold_nanos=hold_nanos, endpoint=ENDPOINT
    )
    return request, model, admission, prompt_estimate


async def complete(
    gateway: Gateway,
    principal: ApiKeyPrincipal,
    raw: bytes,
    request_id: str,
    idempotency_key: str | None = None,
) -> ChatReply | StreamStart:
    claim: idempotency.Claim | None = None
    if idempotency_key is not None:
        key = idempotency.validate_key(idempotency_key)
        outcome = await idempotency.claim(
            gateway.sessions,
            api_token_id=principal.key_id,
            key=key,
            body=raw,
            request_id=request_id,
            ttl_seconds=gateway.settings.idempotency_ttl_seconds,
        )
        if isinstance(outcome, idempotency.Replay):
            return ChatReply(outcome.status, outcome.body, {"Idempotent-Replayed": "true"})
        claim = outcome
    try:
        reply = await _complete(gateway, principal, raw, request_id)
    except BaseException:
        if claim is not None:
            await idempotency.abandon(gateway.sessions, claim)
        raise
    if claim is not None:
        if isinstance(reply, ChatReply):
            await idempotency.complete(gateway.sessions, claim, status=reply.status, body=reply.body)
        else:  # streams are not replayable: free the key
            await idempotency.abandon(gateway.sessions, claim)
    return reply


async def _complete(
    gateway: Gateway, principal: ApiKeyPrincipal, raw: bytes, request_id: str
) -> ChatReply | StreamStart:
    started = time.perf_counter()
    request, model, admission, prompt_estimate = await _prepare(gateway, principal, raw, request_id)
    if request.stream:
        return await _open_stream(gateway, admission, request, prompt_estimate, started)

    async def call(route: Any) -> ChatResult:
        adapter = gateway.pool.get(route.provider)
        result: ChatResult = await adapter.chat(request.body, route.upstream_model)
        return result

    result, served = await call_routes(gateway, admission, ENDPOINT, started, call)

    usage = result.usage
    cost = chat_cost(admission.price, usage.prompt_tokens, usage.completion_tokens)
    latency = int((time.perf_counter() - started) * 1000)
    await finish_served(
        gateway,
        admission,
        served,
        ENDPOINT,
        started,
        cost_nanos=cost,
        tokens=usage.total_tokens,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        latency_ms=latency,
        ttft_ms=latency,
        meta=None if usage.reported else {"usage": "counted locally"},
    )
    body = result.body
    body_usage = body.get("usage")
    if not isinstance(body_usage, dict):
        body_usage = {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        }
        body["usage"] = body_usage
    body_usage["cost"] = money(cost)
    body["billing"] = chat_billing(model, admission.price, cost)
    return ChatReply(200, dumps(body), response_headers(admission, served))


async def _open_stream(
    gateway: Gateway, admission: Admission, request: ChatRequest, prompt_estimate: int, started: float
) -> StreamStart:
    async def call(route: Any) -> tuple[Any, ChatChunk]:
        adapter = gateway.pool.get(route.provider)
        stream = adapter.chat_stream(request.body, route.upstream_model)
        try:
            first: ChatChunk = await stream.__anext__()
        except StopAsyncIteration as exc:
            raise ProviderProtocolError("the upstream ended the stream without any event") from exc
        except BaseException:
            await stream.aclose()
            raise
        return stream, first

    (stream, first), served = await call_routes(gateway, admission, ENDPOINT, started, call)
    return StreamStart(
        gateway=gateway,
        admission=admission,
        request=request,
        served=served,
        stream=stream,
        first=first,
        prompt_estimate=prompt_estimate,
        started=started,
        headers=response_headers(admission, served),
    )
