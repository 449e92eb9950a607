"""POST /api/v1/chat/completions through a real server, with the official openai SDK and
plain HTTP, against fake OpenAI-compatible and Anthropic upstreams: exact cost every time."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropicUpstream
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.server import FakeToolCall
from tests.gateway.helpers import chat_body, exact_json, expected_cost_nanos, nanos, sse_events
from tests.live import Platform, ServerProcess

pytestmark = pytest.mark.postgres


def client(server: ServerProcess, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_base, api_key=token, max_retries=0, timeout=20)


async def test_sdk_completion_is_billed_exactly_and_reports_its_cost(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url, api_key="sk-up")
    model = await platform.model([(provider, "vendor/model-x")], input_price="0.0015", output_price="0.002")
    account = await platform.account("5")

    raw = client(live_server, account.token).chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "user", "content": "Say hi"}],
        max_tokens=100,
        temperature=0.2,
        extra_body={"custom_vendor_flag": True},
    )
    completion = raw.parse()
    body = exact_json(raw.http_response)

    assert completion.model == "vendor/model-x"
    assert completion.choices[0].message.content == openai_upstream.behaviour.reply
    usage = body["usage"]
    cost = expected_cost_nanos(usage["prompt_tokens"], usage["completion_tokens"], "0.0015", "0.002")
    assert nanos(usage["cost"]) == cost
    assert nanos(body["billing"]["cost_usd"]) == cost
    pricing = body["billing"]["catalog_pricing"]
    assert pricing["slug"] == model and pricing["price_unit"] == "per_1k_tokens"
    assert nanos(pricing["input_price"]) == 1_500_000 and nanos(pricing["output_price"]) == 2_000_000
    assert nanos(body["billing"]["input_price_per_1k"]) == 1_500_000
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.headers["x-modelsnest-provider"] == provider
    # Forwarded unchanged, model replaced by the upstream id, the upstream's key used.
    sent = openai_upstream.last
    assert sent.json["model"] == "vendor/model-x"
    assert sent.json["custom_vendor_flag"] is True and sent.json["temperature"] == 0.2
    assert sent.headers["Authorization"] == "Bearer sk-up"

    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(5) - cost and balance.reserved_nanos == 0
    assert await platform.invariants(account.user_id) == []

    generation = httpx.get(
        f"{live_server.api_base}/generation",
        params={"id": raw.headers["x-request-id"]},
        headers={"Authorization": f"Bearer {account.token}"},
    )
    record = exact_json(generation)
    assert generation.status_code == 200
    assert nanos(record["cost_usd"]) == cost and record["provider"] == provider
    assert record["upstream_model"] == "vendor/model-x" and record["status"] == "success"
    assert record["prompt_tokens"] == usage["prompt_tokens"] and record["cancelled"] is False
    assert record["latency_ms"] is not None and record["time_to_first_token_ms"] is not None


@pytest.mark.parametrize("include_usage", [True, False])
async def test_stream_is_passed_through_and_billed_by_upstream_usage(
    include_usage: bool, live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "up-stream")])
    account = await platform.account("1")

    options = {"include_usage": True} if include_usage else None
    stream = client(live_server, account.token).chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Stream please"}],
        stream=True,
        **({"stream_options": options} if options else {}),
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == openai_upstream.behaviour.reply
    # The upstream is always asked for usage; the client sees it only when it asked.
    assert openai_upstream.last.json["stream_options"]["include_usage"] is True
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == (1 if include_usage else 0)

    logs = httpx.get(f"{live_server.api_base}/usage", headers={"Authorization": f"Bearer {account.token}"})
    entry = exact_json(logs)["data"][0]
    cost = expected_cost_nanos(entry["prompt_tokens"], entry["completion_tokens"], "0.001", "0.002")
    assert entry["completion_tokens"] == len(text.split(" ")) and entry["streamed"] is True
    assert nanos(entry["cost_usd"]) == cost
    if include_usage:
        assert usage_chunks[0].usage.completion_tokens == entry["completion_tokens"]
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) - cost and balance.reserved_nanos == 0


async def test_stream_usage_chunk_carries_the_exact_cost(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "up")], input_price="0.003", output_price="0.015")
    account = await platform.account("1")
    response = httpx.post(
        f"{live_server.api_base}/chat/completions",
        json=chat_body(model, stream=True, stream_options={"include_usage": True}),
        headers={"Authorization": f"Bearer {account.token}"},
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    final = events[-2]
    assert final["choices"] == []
    usage = final["usage"]
    cost = expected_cost_nanos(usage["prompt_tokens"], usage["completion_tokens"], "0.003", "0.015")
    assert nanos(usage["cost"]) == cost == nanos(final["billing"]["cost_usd"])
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - cost


async def test_tools_round_trip(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "tooly")])
    account = await platform.account("1")
    openai_upstream.set(tool_calls=[FakeToolCall("get_weather", {"city": "Paris"})])
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    completion = client(live_server, account.token).chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=tools,
        tool_choice="auto",
        parallel_tool_calls=False,
    )
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and call.function.arguments == '{"city":"Paris"}'
    assert completion.choices[0].finish_reason == "tool_calls"
    assert (
        openai_upstream.last.json["tools"] == tools
        and openai_upstream.last.json["parallel_tool_calls"] is False
    )


async def test_anthropic_route_translates_both_ways(
    live_server: ServerProcess, platform: Platform, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    provider = await platform.provider("anthropic", anthropic_upstream.base_url, api_key="sk-ant")
    model = await platform.model(
        [(provider, "claude-sonnet-4-20250514")], input_price="0.003", output_price="0.015"
    )
    account = await platform.account("1")
    sdk = client(live_server, account.token)
    completion = sdk.chat.completions.create(
        model=model,
        max_tokens=200,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    )
    assert completion.choices[0].message.content == anthropic_upstream.behaviour.reply
    assert completion.choices[0].finish_reason == "stop"
    sent = anthropic_upstream.last.json
    assert sent["system"] and sent["model"] == "claude-sonnet-4-20250514" and sent["max_tokens"] == 200
    first_cost = expected_cost_nanos(
        completion.usage.prompt_tokens, completion.usage.completion_tokens, "0.003", "0.015"
    )

    chunks = list(
        sdk.chat.completions.create(
            model=model,
            max_tokens=200,
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == anthropic_upstream.behaviour.reply
    usage = next(c.usage for c in chunks if c.usage is not None)
    second_cost = expected_cost_nanos(usage.prompt_tokens, usage.completion_tokens, "0.003", "0.015")
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) - first_cost - second_cost


async def test_idempotent_retry_returns_the_stored_answer_without_paying_twice(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "idem")])
    account = await platform.account("1")
    headers = {"Authorization": f"Bearer {account.token}", "Idempotency-Key": "retry-42"}
    body = chat_body(model)
    first = httpx.post(f"{live_server.api_base}/chat/completions", json=body, headers=headers)
    calls = openai_upstream.calls
    balance = await platform.balance(account.user_id)
    second = httpx.post(f"{live_server.api_base}/chat/completions", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content and second.headers["idempotent-replayed"] == "true"
    assert openai_upstream.calls == calls
    assert await platform.balance(account.user_id) == balance

    other = httpx.post(
        f"{live_server.api_base}/chat/completions", json=chat_body(model, "other"), headers=headers
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    # The same key under another API key is another key.
    stranger = await platform.account("1")
    fresh = httpx.post(
        f"{live_server.api_base}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {stranger.token}", "Idempotency-Key": "retry-42"},
    )
    assert fresh.status_code == 200 and "idempotent-replayed" not in fresh.headers
