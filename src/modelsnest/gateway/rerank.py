"""Rerank (``POST /api/v1/rerank``, Cohere / Jina's shape) as a modality of the pipeline.

Request: ``model``, ``query``, ``documents`` (strings or ``{"text"}``), ``top_n``,
``return_documents``. Answer: ``{"id", "object": "rerank", "model", "results": [{"index",
"relevance_score", "document"?}], "usage", "billing"}``, best first, at most ``top_n``.

Billing by the model's price unit: ``per_request`` is per search (one query and up to 100
documents: ``search_units``, the upstream's count when it reports one), ``per_1k_tokens`` the
tokens read (the upstream's count, else ours: the query once per document plus every
document). The hold is the same computed from the request itself."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from modelsnest.catalog.pricing import Costing, bill, bill_units, hold_cost
from modelsnest.catalog.types import PriceInfo
from modelsnest.errors import InvalidRequest
from modelsnest.exact_json import dumps
from modelsnest.gateway.admission import prompt_hold_tokens
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.gateway.fallback import Served
from modelsnest.gateway.pipeline import Bill, Call, Incoming, Modality, Reply
from modelsnest.gateway.receipts import add_cost, unit_billing
from modelsnest.gateway.responses_format import new_id
from modelsnest.providers.media_types import RerankResult
from modelsnest.providers.protocol import Provider
from modelsnest.providers.rerank import local_tokens, search_units
from modelsnest.providers.types import Usage

MAX_DOCUMENTS = 1000


@dataclass(frozen=True)
class RerankRequest:
    model: str
    query: str
    documents: list[str]
    top_n: int | None
    return_documents: bool

    @property
    def upstream_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "query": self.query,
            "documents": self.documents,
            "return_documents": self.return_documents,
        }
        if self.top_n is not None:
            body["top_n"] = self.top_n
        return body


def parse_rerank_request(raw: bytes) -> RerankRequest:
    body = parse_json_object(raw)
    model = require_model(body)
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise InvalidRequest("query must be a non-empty string", param="query")
    documents = body.get("documents")
    if not isinstance(documents, list) or not documents:
        raise InvalidRequest("documents must be a non-empty array", param="documents")
    if len(documents) > MAX_DOCUMENTS:
        raise InvalidRequest(f"documents may hold at most {MAX_DOCUMENTS} items", param="documents")
    texts: list[str] = []
    for index, document in enumerate(documents):
        if isinstance(document, dict):
            document = document.get("text")
        if not isinstance(document, str):
            raise InvalidRequest(
                f"documents[{index}] must be a string or an object with a text", param=f"documents[{index}]"
            )
        texts.append(document)
    top_n = body.get("top_n")
    if top_n is not None and (isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1):
        raise InvalidRequest("top_n must be a positive integer", param="top_n")
    return_documents = body.get("return_documents", False)
    if return_documents is None:
        return_documents = False
    if not isinstance(return_documents, bool):
        raise InvalidRequest("return_documents must be a boolean", param="return_documents")
    return RerankRequest(model, query, texts, min(top_n, len(texts)) if top_n else None, return_documents)


def _costing(price: PriceInfo, tokens: int, units: int) -> Costing:
    if price.unit == "per_request":
        return bill_units(price, Fraction(units), dimension="searches")
    return bill(price, Usage(prompt_tokens=tokens))


class RerankModality(Modality[RerankRequest, RerankResult]):
    endpoint = "rerank"

    def parse(self, incoming: Incoming) -> tuple[str, RerankRequest]:
        request = parse_rerank_request(incoming.body)
        return request.model, request

    async def hold(self, call: Call, request: RerankRequest) -> int:
        units = search_units(len(request.documents))
        if call.price.unit == "per_request":
            return bill_units(call.price, Fraction(units), dimension="searches").cost_nanos
        tokens = local_tokens(request.query, request.documents)
        return hold_cost(call.price, prompt_hold_tokens(tokens), 0)

    async def invoke(self, adapter: Provider, request: RerankRequest, upstream_model: str) -> RerankResult:
        return await adapter.rerank(request.upstream_body, upstream_model)

    def bill(self, call: Call, request: RerankRequest, result: RerankResult) -> Bill:
        tokens, units = result.usage.prompt_tokens, result.search_units

        def meter(price: PriceInfo) -> Costing:
            return _costing(price, tokens, units)

        costing = meter(call.price)
        per_search = call.price.unit == "per_request"
        return Bill(
            cost_nanos=costing.cost_nanos,
            tokens=tokens,
            usage={
                "prompt_tokens": tokens,
                "units": units if per_search else tokens,
                "unit_type": "search" if per_search else "token",
                "meta": None if result.usage.reported else {"usage": "counted locally"},
            },
            costing=costing,
            meter=meter,
        )

    async def answer(
        self, call: Call, request: RerankRequest, result: RerankResult, bill: Bill, served: Served
    ) -> Reply:
        results = result.body.get("results") or []
        if request.top_n is not None:
            results = results[: request.top_n]
        usage = {
            "prompt_tokens": result.usage.prompt_tokens,
            "total_tokens": result.usage.prompt_tokens,
            "search_units": result.search_units,
        }
        per_search = call.price.unit == "per_request"
        quantity = result.search_units if per_search else result.usage.prompt_tokens
        body = {
            "id": new_id("rerank"),
            "object": "rerank",
            "model": call.model.slug,
            "results": results,
            "usage": add_cost(usage, bill.cost_nanos, bill.costing),
            "billing": unit_billing(
                call.model,
                call.price,
                bill.cost_nanos,
                quantity,
                "search" if per_search else "token",
                bill.costing,
            ),
        }
        return Reply(dumps(body))


RERANK = RerankModality()
__all__ = ["RERANK", "RerankModality", "parse_rerank_request"]
