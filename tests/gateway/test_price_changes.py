"""A price change applies to new requests only: a stream admitted before it settles at its
admission price, the next request pays the new one, and the history keeps both. Every usage
row carries its upstream cost from the serving route's cost price, so margins per model,
provider and user (from the daily rollups) are exact to the nano-dollar."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from modelsnest.billing.margins import margins
from modelsnest.catalog.price_input import parse_price
from modelsnest.catalog.prices import costs_above_price, current_price, price_history, set_price
from tests.fakes.anthropic_upstream import FakeAnthropicUpstream
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import chat_body, exact_json, nanos, usage_row
from tests.live import Account, Platform, ServerProcess

pytestmark = pytest.mark.postgres


def cost(prompt: int, completion: int, input_price: str, output_price: str) -> int:
    return -(-(prompt * nanos(input_price) + completion * nanos(output_price)) // 1000)


async def test_a_stream_settles_at_its_admission_price_and_the_next_request_pays_the_new_one(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "up")], input_price="0.001", output_price="0.002")
    account = await platform.account("1")
    old = await current_price(platform.sessions, model)
    assert old is not None
    openai_upstream.set(reply=" ".join(f"word{i}" for i in range(40)), chunk_delay=0.05)
    headers = {"Authorization": f"Bearer {account.token}"}
    body = {**chat_body(model), "stream": True, "stream_options": {"include_usage": True}}
    events: list[str] = []
    client = httpx.AsyncClient(base_url=live_server.api_base, headers=headers, timeout=30)
    async with client, client.stream("POST", "/chat/completions", json=body) as streaming:
        stream_id = streaming.headers["x-request-id"]
        lines = streaming.aiter_lines()
        while len(events) < 3:
            line = await anext(lines)
            if line.startswith("data: "):
                events.append(line)
        # The price changes while the stream is running ...
        new = await set_price(
            platform.sessions,
            model,
            parse_price("per_1k_tokens", {"input": "0.01", "output": "0.02"}),
            actor="admin:test",
            reason="price rise",
        )
        await asyncio.sleep(0.5)  # every replica serves it within the cache TTL (0.2 s here)
        after = await client.post("/chat/completions", json=chat_body(model, "after the change"))
        assert after.status_code == 200, after.text
        events.extend([line async for line in lines if line.startswith("data: ")])

    # ... the stream was admitted before: it settles at the old price, and says so.
    streamed = await usage_row(platform, stream_id)
    assert streamed.status == "success" and streamed.price_version_id == old.id
    assert streamed.created_at > new.effective_from  # it settled after the change
    assert streamed.cost_nanos == cost(streamed.prompt_tokens, streamed.completion_tokens, "0.001", "0.002")
    final = exact_json(httpx.Response(200, content=events[-2].removeprefix("data: ")))
    assert nanos(final["usage"]["cost"]) == streamed.cost_nanos
    assert final["billing"]["price_version_id"] == old.id
    assert nanos(final["billing"]["catalog_pricing"]["input_price"]) == nanos("0.001")
    # The request admitted after the change pays the new price.
    answer = exact_json(after)
    later = await usage_row(platform, after.headers["x-request-id"])
    assert later.price_version_id == new.id == answer["billing"]["price_version_id"]
    assert later.cost_nanos == cost(later.prompt_tokens, later.completion_tokens, "0.01", "0.02")
    assert nanos(answer["billing"]["input_price_per_1k"]) == nanos("0.01")
    # The history shows both, and the balance paid each at its own price.
    history = await price_history(platform.sessions, model)
    assert [(v.id, v.reason) for v in history] == [(new.id, "price rise"), (old.id, "test model")]
    assert history[1].effective_until == history[0].effective_from
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) - streamed.cost_nanos - later.cost_nanos
    assert balance.reserved_nanos == 0


async def _chat(server: ServerProcess, account: Account, model: str, *, stream: bool = False) -> str:
    body: dict[str, Any] = {**chat_body(model), "max_tokens": 50}
    if stream:
        body["stream"] = True
    response = httpx.post(
        f"{server.api_base}/chat/completions", json=body, headers={"Authorization": f"Bearer {account.token}"}
    )
    assert response.status_code == 200, response.text
    return response.headers["x-request-id"]


async def test_margins_per_model_provider_and_user_are_exact(
    live_server: ServerProcess,
    platform: Platform,
    openai_upstream: FakeOpenAIUpstream,
    anthropic_upstream: FakeAnthropicUpstream,
) -> None:
    costed_provider = await platform.provider("openai", openai_upstream.base_url)
    uncosted_provider = await platform.provider("anthropic", anthropic_upstream.base_url, api_key="k")
    costed = await platform.model([(costed_provider, "up")], dimensions={"cached_input": "0.0005"})
    uncosted = await platform.model([(uncosted_provider, "claude")])
    # What the provider charges us: a fraction of a nano per token, so rounding matters.
    cost_version = await platform.route_cost(
        costed,
        costed_provider,
        "per_1k_tokens",
        {"input": "0.0008003", "output": "0.0015", "cached_input": "0.0004"},
    )
    openai_upstream.set(reply="one two three", prompt_tokens=1_234, cached_tokens=512)
    anthropic_upstream.set(reply="four five")
    first, second = await platform.account("1"), await platform.account("1")
    requests = [
        (first, await _chat(live_server, first, costed)),
        (first, await _chat(live_server, first, costed, stream=True)),
        (first, await _chat(live_server, first, uncosted)),
        (second, await _chat(live_server, second, costed)),
    ]
    rows = [(account, await usage_row(platform, request_id)) for account, request_id in requests]

    for _, row in rows:
        if row.model_slug == costed:
            # The same usage at the route's cost price, rounded up once: 722 × 800.3 + 512 × 400
            # + 3 × 1 500 nanos = 787 116.6 → 787 117.
            assert (row.upstream_cost_nanos, row.upstream_price_version_id) == (787_117, cost_version)
            assert row.cost_nanos == 722 * 1_000 + 512 * 500 + 3 * 2_000 == 984_000
        else:
            assert row.upstream_cost_nanos is None and row.upstream_price_version_id is None

    today = datetime.now(UTC).date()
    span = {"start": today - timedelta(days=1), "end": today + timedelta(days=1)}

    def expected(rows_of: list[Any]) -> tuple[int, int, int, int]:
        charged = sum(r.cost_nanos for r in rows_of)
        upstream = sum(r.upstream_cost_nanos or 0 for r in rows_of)
        uncosted = sum(r.cost_nanos for r in rows_of if r.upstream_cost_nanos is None)
        return charged, upstream, uncosted, charged - uncosted - upstream

    def shown(found: Any) -> tuple[int, int, int, int]:
        return found.charged_nanos, found.upstream_cost_nanos, found.uncosted_nanos, found.margin_nanos

    by_model = {m.key: m for m in await margins(platform.sessions, by="model", **span)}
    assert shown(by_model[costed]) == expected([r for _, r in rows if r.model_slug == costed])
    assert by_model[costed].margin_nanos == 3 * (984_000 - 787_117)
    assert shown(by_model[uncosted]) == expected([r for _, r in rows if r.model_slug == uncosted])
    assert by_model[uncosted].margin_nanos == 0 and by_model[uncosted].uncosted_nanos > 0
    by_provider = {m.key: m for m in await margins(platform.sessions, by="provider", **span)}
    assert shown(by_provider[costed_provider]) == shown(by_model[costed])
    assert by_provider[uncosted_provider].requests == 1
    by_user = {m.key: m for m in await margins(platform.sessions, by="user", **span)}
    for account in (first, second):
        assert shown(by_user[account.user_id]) == expected([r for a, r in rows if a is account])
    assert not [r for r in await costs_above_price(platform.sessions) if r.model_slug == costed]
