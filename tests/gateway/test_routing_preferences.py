"""Per-request routing preferences on chat, Responses and completions: ``models`` (fallback
models, billed at the one that answered) and ``provider`` (order, only, ignore,
allow_fallbacks, sort by price), through a live server with fake upstreams; bad shapes are
400s naming the parameter, and the fields never reach the upstream."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import chat_body, exact_json, expected_cost_nanos, nanos, sse_events, usage_row
from tests.live import Platform, ServerProcess

pytestmark = pytest.mark.postgres


def post(
    server: ServerProcess, token: str, body: dict[str, Any], path: str = "chat/completions"
) -> httpx.Response:
    return httpx.post(
        f"{server.api_base}/{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@pytest.mark.parametrize("path", ["chat/completions", "responses", "completions"])
@pytest.mark.parametrize("stream", [False, True])
async def test_models_fall_back_to_the_next_model_billed_at_the_one_that_answered(
    path: str,
    stream: bool,
    live_server: ServerProcess,
    platform: Platform,
    openai_upstream: FakeOpenAIUpstream,
) -> None:
    with FakeOpenAIUpstream() as broken:
        broken.set(status=503)
        down = await platform.provider("openai", broken.base_url)
        up = await platform.provider("openai", openai_upstream.base_url)
        first = await platform.model([(down, "first-up")], input_price="0.01", output_price="0.02")
        second = await platform.model([(up, "second-up")], input_price="0.0015", output_price="0.002")
        account = await platform.account("5")
        if path == "chat/completions":
            body: dict[str, Any] = chat_body(first, stream=stream)
        elif path == "responses":
            body = {"model": first, "input": "Hello", "stream": stream}
        else:
            body = {"model": first, "prompt": "Hello", "stream": stream}
        if stream and path != "responses":
            body["stream_options"] = {"include_usage": True}
        response = post(live_server, account.token, {**body, "models": [first, second]}, path)
        assert response.status_code == 200, response.text
        assert broken.calls >= 1
    assert response.headers["x-modelsnest-provider"] == up
    sent = openai_upstream.last.json
    assert sent["model"] == "second-up" and "models" not in sent and "provider" not in sent
    row = await usage_row(platform, response.headers["x-request-id"])
    assert row.model_slug == second
    cost = expected_cost_nanos(row.prompt_tokens, row.completion_tokens, "0.0015", "0.002")
    assert row.cost_nanos == cost
    if not stream:
        answer = exact_json(response)
        usage = answer["usage"]
        assert nanos(usage["cost"]) == cost and answer["billing"]["catalog_pricing"]["slug"] == second
    elif path == "responses":
        assert f'"model":"{second}"' in response.text.split("response.completed")[-1]
    else:
        assert nanos(sse_events(response.text)[-2]["usage"]["cost"]) == cost
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(5) - cost and balance.reserved_nanos == 0
    assert await platform.invariants(account.user_id) == []


async def test_models_alone_names_the_model(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    up = await platform.provider("openai", openai_upstream.base_url)
    slug = await platform.model([(up, "only-up")])
    account = await platform.account("1")
    body = {"models": [slug], "messages": [{"role": "user", "content": "hi"}]}
    response = post(live_server, account.token, body)
    assert response.status_code == 200, response.text
    assert (await usage_row(platform, response.headers["x-request-id"])).model_slug == slug


async def test_provider_order_only_ignore_and_allow_fallbacks_are_honoured(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    with FakeOpenAIUpstream() as other:
        a = await platform.provider("openai", openai_upstream.base_url)
        b = await platform.provider("openai", other.base_url)
        slug = await platform.model([(a, "a-up", 1), (b, "b-up", 2)])
        account = await platform.account("5")

        def served(provider: dict[str, Any]) -> str:
            response = post(live_server, account.token, {**chat_body(slug), "provider": provider})
            assert response.status_code == 200, response.text
            return response.headers["x-modelsnest-provider"]

        assert served({}) == a
        assert served({"order": [b]}) == b
        assert served({"order": [b.upper(), a]}) == b  # names are case-insensitive
        assert served({"only": [b]}) == b
        assert served({"ignore": [a]}) == b
        assert served({"allow_fallbacks": True, "order": [a]}) == a
        assert "provider" not in other.last.json

        other.set(status=500)
        assert served({"order": [b]}) == a  # b failed, fallbacks allowed
        refused = post(
            live_server,
            account.token,
            {**chat_body(slug), "provider": {"order": [b], "allow_fallbacks": False}},
        )
        assert refused.status_code == 502
        nothing = post(live_server, account.token, {**chat_body(slug), "provider": {"only": ["nobody"]}})
        assert nothing.status_code == 400 and nothing.json()["error"]["param"] == "provider"
    assert (await platform.balance(account.user_id)).reserved_nanos == 0
    assert await platform.invariants(account.user_id) == []


async def test_provider_sort_price_picks_the_cheapest_route(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    with FakeOpenAIUpstream() as cheap_upstream:
        dear = await platform.provider("openai", openai_upstream.base_url)
        cheap = await platform.provider("openai", cheap_upstream.base_url)
        slug = await platform.model([(dear, "dear-up", 1), (cheap, "cheap-up", 2)])
        await platform.route_cost(slug, dear, "per_1k_tokens", {"input": "0.0009", "output": "0.0018"})
        await platform.route_cost(slug, cheap, "per_1k_tokens", {"input": "0.0001", "output": "0.0002"})
        account = await platform.account("1")
        plain = post(live_server, account.token, chat_body(slug))
        by_price = post(live_server, account.token, {**chat_body(slug), "provider": {"sort": "price"}})
        by_latency = post(live_server, account.token, {**chat_body(slug), "provider": {"sort": "latency"}})
    assert plain.headers["x-modelsnest-provider"] == dear
    assert by_price.headers["x-modelsnest-provider"] == cheap
    assert by_latency.status_code == 200, by_latency.text


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"models": "a"}, "models"),
        ({"models": []}, "models"),
        ({"models": [1]}, "models"),
        ({"provider": "fast"}, "provider"),
        ({"provider": {"sort": "fastest"}}, "provider.sort"),
        ({"provider": {"order": "a"}}, "provider.order"),
        ({"provider": {"only": [3]}}, "provider.only"),
        ({"provider": {"ignore": [""]}}, "provider.ignore"),
        ({"provider": {"allow_fallbacks": "no"}}, "provider.allow_fallbacks"),
        ({"provider": {"quantizations": ["fp8"]}}, "provider.quantizations"),
    ],
)
@pytest.mark.parametrize("path", ["chat/completions", "responses"])
async def test_bad_preferences_are_400s(
    extra: dict[str, Any],
    param: str,
    path: str,
    live_server: ServerProcess,
    platform: Platform,
    openai_upstream: FakeOpenAIUpstream,
) -> None:
    up = await platform.provider("openai", openai_upstream.base_url)
    slug = await platform.model([(up, "x")])
    account = await platform.account("1")
    base = chat_body(slug) if path == "chat/completions" else {"model": slug, "input": "hi"}
    response = post(live_server, account.token, {**base, **extra}, path)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert openai_upstream.calls == 0
