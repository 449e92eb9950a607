"""The Responses API shares chat's money rules: an Anthropic route (translated twice:
Responses → chat → Messages and back) billed exactly, ``Idempotency-Key`` replays without a
second charge, a key's spend limit and a too-small balance refuse before any upstream call."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from modelsnest.money import usd_to_nanos
from tests.fakes.anthropic_upstream import FakeAnthropicUpstream
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.server import FakeToolCall
from tests.gateway.helpers import exact_json, expected_cost_nanos, nanos, sdk, usage_row
from tests.live import Platform, ServerProcess

pytestmark = pytest.mark.postgres


async def test_responses_over_an_anthropic_route(
    live_server: ServerProcess, platform: Platform, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    provider = await platform.provider("anthropic", anthropic_upstream.base_url, api_key="sk-ant")
    slug = await platform.model(
        [(provider, "claude-sonnet-4-20250514")], input_price="0.003", output_price="0.015"
    )
    account = await platform.account("1")
    client = sdk(live_server, account.token)

    raw = client.responses.with_raw_response.create(
        model=slug, instructions="Be brief.", input="Hi", max_output_tokens=200
    )
    response = raw.parse()
    assert response.output_text == anthropic_upstream.behaviour.reply
    sent = anthropic_upstream.last.json
    assert sent["system"] and sent["max_tokens"] == 200 and sent["model"] == "claude-sonnet-4-20250514"
    assert response.usage is not None
    first = expected_cost_nanos(response.usage.input_tokens, response.usage.output_tokens, "0.003", "0.015")
    assert nanos(exact_json(raw.http_response)["usage"]["cost"]) == first

    anthropic_upstream.set(tool_calls=[FakeToolCall("get_weather", {"city": "Paris"})])
    with client.responses.stream(
        model=slug,
        input="Weather in Paris?",
        tools=[
            {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
        ],  # type: ignore[list-item]
    ) as stream:
        final = stream.get_final_response()
    call = next(item for item in final.output if item.type == "function_call")
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert final.usage is not None
    second = expected_cost_nanos(final.usage.input_tokens, final.usage.output_tokens, "0.003", "0.015")
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) - first - second and balance.reserved_nanos == 0


async def test_idempotent_retry_is_replayed_without_a_second_charge(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    slug = await platform.model([(provider, "idem")])
    account = await platform.account("1")
    headers = {"Authorization": f"Bearer {account.token}", "Idempotency-Key": "resp-7"}
    body = {"model": slug, "input": "Once"}
    first = httpx.post(f"{live_server.api_base}/responses", json=body, headers=headers)
    balance = await platform.balance(account.user_id)
    calls = openai_upstream.calls
    second = httpx.post(f"{live_server.api_base}/responses", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content and second.headers["idempotent-replayed"] == "true"
    assert openai_upstream.calls == calls and await platform.balance(account.user_id) == balance
    row = await usage_row(platform, first.headers["x-request-id"])
    assert row.cost_nanos == nanos(1) - balance.balance_nanos


async def test_spend_limit_and_balance_refuse_before_the_upstream(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    slug = await platform.model([(provider, "dear")], input_price="1", output_price="1")
    limited = await platform.account("100", spend_limit_nanos=usd_to_nanos("0.01"))
    with pytest.raises(openai.RateLimitError):
        sdk(live_server, limited.token).responses.create(model=slug, input="hi", max_output_tokens=100)
    broke = await platform.account("0.01")
    with pytest.raises(openai.APIStatusError) as refused:
        sdk(live_server, broke.token).responses.create(model=slug, input="hi", max_output_tokens=100)
    assert refused.value.status_code == 402
    assert openai_upstream.calls == 0
