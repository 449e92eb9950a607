"""Embeddings: billed per 1k input tokens as the upstream reports them (``pricing.bill``: by
dimension, context tiers included), held at ``pricing.hold_cost`` of the estimate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelsnest.catalog.pricing import Costing, bill, hold_cost
from modelsnest.catalog.types import PriceInfo
from modelsnest.errors import InvalidRequest
from modelsnest.exact_json import dumps
from modelsnest.gateway.admission import prompt_hold_tokens
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.pipeline import Bill, Call, Incoming, Modality, Reply
from modelsnest.gateway.receipts import add_cost, chat_billing
from modelsnest.providers.media_types import EmbeddingsResult
from modelsnest.providers.protocol import Provider
from modelsnest.providers.tokens import count_tokens
from modelsnest.providers.types import Usage

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


@dataclass(frozen=True)
class EmbeddingsRequest:
    body: dict[str, Any]
    estimate: int


class EmbeddingsModality(Modality[EmbeddingsRequest, EmbeddingsResult]):
    endpoint = "embeddings"

    def parse(self, incoming: Incoming) -> tuple[str, EmbeddingsRequest]:
        body = parse_json_object(incoming.body)
        slug = require_model(body)
        return slug, EmbeddingsRequest(body, _validate(body))

    async def hold(self, call: Call, request: EmbeddingsRequest) -> int:
        return hold_cost(call.price, prompt_hold_tokens(request.estimate), 0)

    async def invoke(
        self, adapter: Provider, request: EmbeddingsRequest, upstream_model: str
    ) -> EmbeddingsResult:
        return await adapter.embeddings(request.body, upstream_model)

    def bill(self, call: Call, request: EmbeddingsRequest, result: EmbeddingsResult) -> Bill:
        tokens = result.usage.prompt_tokens
        usage = Usage(prompt_tokens=tokens)

        def meter(price: PriceInfo) -> Costing:
            return bill(price, usage)

        costing = meter(call.price)
        return Bill(
            cost_nanos=costing.cost_nanos,
            tokens=tokens,
            usage={
                "prompt_tokens": tokens,
                "meta": None if result.usage.reported else {"usage": "counted locally"},
            },
            costing=costing,
            meter=meter,
        )

    async def answer(
        self, call: Call, request: EmbeddingsRequest, result: EmbeddingsResult, bill: Bill, served: Served
    ) -> Reply:
        out = result.body
        usage = out.get("usage") if isinstance(out.get("usage"), dict) else None
        if usage is None:
            tokens = result.usage.prompt_tokens
            usage = {"prompt_tokens": tokens, "total_tokens": tokens}
            out["usage"] = usage
        add_cost(usage, bill.cost_nanos, bill.costing)
        out["billing"] = chat_billing(call.model, call.price, bill.cost_nanos, bill.costing)
        return Reply(dumps(out))


EMBEDDINGS = EmbeddingsModality()
