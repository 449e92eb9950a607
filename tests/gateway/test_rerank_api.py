"""POST /api/v1/rerank (Cohere / Jina's shape) through a live server: the simulator's
deterministic scores, a Jina-compatible upstream's ``/rerank`` natively, exact costs per
search and per 1K tokens, clear 400s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelsnest.providers.rerank import local_tokens, relevance
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import exact_json, nanos, usage_row
from tests.live import Account, Platform, ServerProcess

pytestmark = pytest.mark.postgres

DOCUMENTS = [
    "Berlin is the capital of Germany.",
    {"text": "Paris is the capital of France."},
    "The Eiffel Tower is in Paris, France.",
]
QUERY = "What is the capital of France?"


def rerank(server: ServerProcess, account: Account, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{server.api_base}/rerank",
        json=body,
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=30,
    )


async def test_simulator_ranks_deterministically_and_bills_per_search(
    live_server: ServerProcess, platform: Platform
) -> None:
    slug = await platform.model(
        [("simulator", "sim-rerank")],
        input_price="0.002",
        unit="per_request",
        endpoint="rerank",
        category="embeddings",
    )
    account = await platform.account("1")
    body = {"model": slug, "query": QUERY, "documents": DOCUMENTS, "top_n": 2, "return_documents": True}
    response = rerank(live_server, account, body)
    assert response.status_code == 200, response.text
    answer = exact_json(response)
    texts = [d if isinstance(d, str) else d["text"] for d in DOCUMENTS]
    expected = sorted(((i, relevance(QUERY, t)) for i, t in enumerate(texts)), key=lambda p: (-p[1], p[0]))[
        :2
    ]
    assert [(r["index"], float(r["relevance_score"])) for r in answer["results"]] == expected
    assert answer["results"][0]["index"] == 1  # "Paris is the capital of France."
    assert [r["document"]["text"] for r in answer["results"]] == [texts[i] for i, _ in expected]
    assert answer["object"] == "rerank" and answer["model"] == slug
    assert answer["usage"]["search_units"] == 1
    assert answer["usage"]["prompt_tokens"] == local_tokens(QUERY, texts)
    assert nanos(answer["usage"]["cost"]) == nanos("0.002") == nanos(answer["billing"]["cost_usd"])
    assert answer["billing"]["billed_unit"] == "search" and answer["billing"]["billed_quantity"] == 1
    assert exact_json(rerank(live_server, account, body))["results"] == answer["results"]  # deterministic
    row = await usage_row(platform, response.headers["x-request-id"])
    assert row.endpoint == "rerank" and row.units == 1 and row.unit_type == "search"
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - 2 * nanos("0.002")
    assert await platform.invariants(account.user_id) == []
    plain = exact_json(rerank(live_server, account, {"model": slug, "query": QUERY, "documents": texts}))
    assert len(plain["results"]) == 3 and all("document" not in r for r in plain["results"])


async def test_a_jina_compatible_upstream_is_called_natively_and_billed_per_token(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url, api_key="jina_key")
    slug = await platform.model(
        [(provider, "jina-reranker-v2")], input_price="0.00002", endpoint="rerank", category="embeddings"
    )
    account = await platform.account("1")
    response = rerank(
        live_server, account, {"model": slug, "query": QUERY, "documents": DOCUMENTS, "top_n": 2}
    )
    assert response.status_code == 200, response.text
    answer = exact_json(response)
    sent = openai_upstream.last
    assert sent.path.endswith("/rerank") and sent.headers["Authorization"] == "Bearer jina_key"
    assert sent.json["model"] == "jina-reranker-v2" and sent.json["top_n"] == 2
    assert sent.json["documents"] == [d if isinstance(d, str) else d["text"] for d in DOCUMENTS]
    assert [r["index"] for r in answer["results"]] == [2, 1]
    assert [r["relevance_score"] for r in answer["results"]] == [0.75, 0.5]
    assert all("document" not in r for r in answer["results"])  # not asked
    tokens = (
        len(QUERY) // 4 + 1 + sum(len(d if isinstance(d, str) else d["text"]) // 4 + 1 for d in DOCUMENTS)
    )
    assert answer["usage"]["prompt_tokens"] == tokens
    cost = -(-tokens * nanos("0.00002") // 1000)
    assert nanos(answer["usage"]["cost"]) == cost
    row = await usage_row(platform, response.headers["x-request-id"])
    assert row.cost_nanos == cost and row.prompt_tokens == tokens


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"documents": ["a"]}, "query"),
        ({"query": "", "documents": ["a"]}, "query"),
        ({"query": "q"}, "documents"),
        ({"query": "q", "documents": []}, "documents"),
        ({"query": "q", "documents": [{"title": "x"}]}, "documents[0]"),
        ({"query": "q", "documents": ["a"], "top_n": 0}, "top_n"),
        ({"query": "q", "documents": ["a"], "return_documents": "yes"}, "return_documents"),
    ],
)
async def test_malformed_rerank_requests_are_400s(
    body: dict[str, Any], param: str, live_server: ServerProcess, platform: Platform
) -> None:
    slug = await platform.model(
        [("simulator", "sim-rerank")],
        input_price="0.002",
        unit="per_request",
        endpoint="rerank",
        category="embeddings",
    )
    account = await platform.account("1")
    response = rerank(live_server, account, {"model": slug, **body})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1)
