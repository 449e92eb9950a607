"""Embeddings: billed per 1k input tokens as the upstream reports them."""

from __future__ import annotations

import time
from typing import Any

from modelsnest.auth.key_verifier import ApiKeyPrincipal
from modelsnest.catalog.pricing import chat_cost, require_price
from modelsnest.errors import InvalidRequest
from modelsnest.exact_json import dumps, money
from modelsnest.gateway.admission import (
    admit,
    call_routes,
    finish_served,
    resolve_model,
)
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.gateway.receipts import chat_billing
from modelsnest.gateway.service import Gateway
from modelsnest.providers.media_types import EmbeddingsResult
from modelsnest.providers.tokens import count_tokens

ENDPOINT = "embeddings"
MAX_INPUTS = 2048


def estimate_input_tokens(value: Any) -> int:
    """Validate ``input`` (string, strings, token array, token arrays) and estimate its tokens."""
    if isinstance(value, str):
        if not value:
            raise InvalidRequest("input must not be empty", param="input")
        return count_tokens(value)
    if not isinstance(value, list) or not value:
        raise InvalidRequest(
            "input must be a string, an array of strings or an array of token arrays", param="input"
        )
    if len(value) > MAX_INPUTS:
        raise InvalidRequest(f"input may hold at most {MAX_INPUTS} items", param="input")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return len(value)
    total = 0
    for index, item in enumerate(value):
        if isinstance(item, str) and item:
            total += count_tokens(item)
        elif (
            isinstance(item, list)
            and item
            and all(isinstance(t, int) and not isinstance(t, bool) for t in item)
        ):
            total += len(item)
        else:
            raise InvalidRequest(
                f"input[{index}] must be a non-empty string or token array", param=f"input[{index}]"
            )
    return total


def _validate(body: dict[str, Any]) -> int:
    if "input" not in body:
        raise InvalidRequest("input is required", param="input")
    tokens = estimate_input_tokens(body["input"])
    encoding = body.get("encoding_format")
    if encoding is not None and encoding not in ("float", "base64"):
        raise InvalidRequest("encoding_format must be float or base64", param="encoding_format")
    dimensions = body.get("dimensions")
    if dimensions is not None and (
        isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1
    ):
        raise InvalidRequest("dimensions must be a positive integer", param="dimensions")
    return tokens


async def create_embeddings(
    gateway: Gateway, principal: ApiKeyPrincipal, raw: bytes, request_id: str
) -> tuple[bytes, dict[str, str]]:
    started = time.perf_counter()
    body = parse_json_object(raw)
    model = await resolve_model(gateway, principal, require_model(body), ENDPOINT)
    price = require_price(model)
    estimate = _validate(body)
    hold = chat_cost(price, estimate + estimate // 4 + 16, 0)
    admission = await admit(
        gateway, principal, model, price, request_id=request_id, hold_nanos=hold, endpoint=ENDPOINT
    )

    async def call(route: Any) -> EmbeddingsResult:
        result: EmbeddingsResult = await gateway.pool.get(route.provider).embeddings(
            body, route.upstream_model
        )
        return result

    result, served = await call_routes(gateway, admission, ENDPOINT, started, call)
    tokens = result.usage.prompt_tokens
    cost = chat_cost(price, tokens, 0)
    await finish_served(
        gateway,
        admission,
        served,
        ENDPOINT,
        started,
        cost_nanos=cost,
        tokens=tokens,
        prompt_tokens=tokens,
        meta=None if result.usage.reported else {"usage": "counted locally"},
    )
    out = result.body
    usage = out.get("usage") if isinstance(out.get("usage"), dict) else None
    if usage is None:
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        out["usage"] = usage
    usage["cost"] = money(cost)
    out["billing"] = chat_billing(model, price, cost)
    headers = admission.limit_state.headers()
    headers["X-Modelsnest-Provider"] = served.provider_name
    return dumps(out), headers
