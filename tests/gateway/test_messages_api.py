"""Anthropic's Messages API at ``/api/v1/messages``: the official ``anthropic`` SDK (as Claude
Code uses it, ``base_url=http://HOST/api``) against the live server, served by an
OpenAI-compatible upstream (translated both ways) and by an Anthropic upstream (passed through),
both fakes speaking their real wire formats. Billed exactly like chat."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import pytest

from modelsnest.gateway.messages_format import to_chat_body
from modelsnest.providers.tokens import count_tokens, estimate_prompt_tokens
from tests.fakes.anthropic_upstream import FakeAnthropicUpstream
from tests.fakes.behaviour import FakeToolCall
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.server import FakeUpstream, reply_pieces
from tests.gateway.helpers import exact_json, expected_cost_nanos, nanos, usage_row
from tests.live import Platform, ServerProcess

pytestmark = pytest.mark.postgres

KINDS = ["openai", "anthropic"]
REPLY = "The sky is blue because of Rayleigh scattering."
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
# A 1x1 transparent PNG.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
).decode()


@pytest.fixture(params=KINDS)
def upstream(
    request: pytest.FixtureRequest,
    openai_upstream: FakeOpenAIUpstream,
    anthropic_upstream: FakeAnthropicUpstream,
) -> FakeUpstream:
    return openai_upstream if request.param == "openai" else anthropic_upstream


async def routed_model(platform: Platform, upstream: FakeUpstream, **prices: Any) -> str:
    kind = upstream.name
    provider = await platform.provider(kind, upstream.base_url, api_key="sk-up")
    return await platform.model([(provider, "up-model")], **prices)


_OPEN: list[anthropic.Anthropic] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def client(server: ServerProcess, token: str) -> anthropic.Anthropic:
    """The official SDK as Claude Code points it (``ANTHROPIC_BASE_URL=http://HOST/api``);
    closed after the test."""
    sdk = anthropic.Anthropic(base_url=f"{server.base_url}/api", api_key=token, max_retries=0, timeout=30)
    _OPEN.append(sdk)
    return sdk


def post(server: ServerProcess, body: dict[str, Any], query: str = "", **headers: str) -> httpx.Response:
    return httpx.post(f"{server.api_base}/messages{query}", json=body, headers=headers, timeout=30)


def sse(text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, data) of each event of an SSE body."""
    for block in text.split("\n\n"):
        lines = block.splitlines()
        name = next((line[7:] for line in lines if line.startswith("event: ")), "")
        data = next((line[6:] for line in lines if line.startswith("data: ")), None)
        if data is not None:
            yield name, exact_json(httpx.Response(200, text=data))


def hello(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Why is the sky blue?"}],
        **extra,
    }


def estimate(body: dict[str, Any]) -> int:
    chat = to_chat_body(body)
    return estimate_prompt_tokens(chat["messages"], chat.get("tools"))


# -- plain and streamed ------------------------------------------------------------------------


async def test_a_message_is_answered_and_billed_like_chat(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    upstream.set(reply=REPLY, prompt_tokens=40)
    message = client(live_server, account.token).messages.create(
        model=model,
        max_tokens=100,
        system="You are a physicist.",
        messages=[{"role": "user", "content": "Why is the sky blue?"}],
        extra_body={"temperature": 0.2},
        stop_sequences=["\n\nHuman:"],
        metadata={"user_id": "user-42"},
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.model == model  # the id asked for, not the upstream's
    assert message.id.startswith("msg_")
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == REPLY  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    pieces = len(reply_pieces(REPLY))
    assert (message.usage.input_tokens, message.usage.output_tokens) == (40, pieces)
    cost = expected_cost_nanos(40, pieces, "0.001", "0.002")
    extra = message.model_dump()
    assert nanos(Decimal(str(extra["usage"]["cost"]))) == cost
    assert nanos(Decimal(str(extra["billing"]["cost_usd"]))) == cost
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - cost
    assert await platform.invariants(account.user_id) == []

    sent = upstream.requests[-1]
    if upstream.name == "openai":
        assert sent.path == "/v1/chat/completions"
        assert sent.json["messages"] == [
            {"role": "system", "content": "You are a physicist."},
            {"role": "user", "content": "Why is the sky blue?"},
        ]
        assert (sent.json["max_tokens"], sent.json["stop"], sent.json["user"]) == (
            100,
            ["\n\nHuman:"],
            "user-42",
        )
        assert sent.json["temperature"] == 0.2
    else:
        assert sent.path == "/v1/messages"
        assert sent.headers["x-api-key"] == "sk-up" and sent.headers["anthropic-version"] == "2023-06-01"
        assert sent.json["system"] == "You are a physicist." and sent.json["model"] == "up-model"
        assert sent.json["metadata"] == {"user_id": "user-42"}


async def test_a_stream_has_anthropics_exact_event_sequence(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    upstream.set(reply=REPLY, prompt_tokens=40)
    with client(live_server, account.token).messages.stream(**hello(model)) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == REPLY
    assert final.stop_reason == "end_turn" and final.model == model
    pieces = len(reply_pieces(REPLY))
    assert (final.usage.input_tokens, final.usage.output_tokens) == (40, pieces)

    response = post(live_server, hello(model, stream=True), **{"x-api-key": account.token})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = list(sse(response.text))
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "ping",
        "content_block_start",
        *["content_block_delta"] * pieces,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(name == data["type"] for name, data in events)
    start = events[0][1]["message"]
    assert (start["model"], start["content"], start["stop_reason"]) == (model, [], None)
    assert events[2][1] == {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    assert {data["delta"]["type"] for name, data in events if name == "content_block_delta"} == {"text_delta"}
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    cost = expected_cost_nanos(40, pieces, "0.001", "0.002")
    assert (delta["usage"]["input_tokens"], delta["usage"]["output_tokens"]) == (40, pieces)
    assert nanos(delta["usage"]["cost"]) == nanos(delta["billing"]["cost_usd"]) == cost
    row = await usage_row(platform, response.headers["x-request-id"])
    assert (row.endpoint, row.status, row.streamed, row.cost_nanos) == ("messages", "success", True, cost)
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - 2 * cost


# -- tools, thinking, images ---------------------------------------------------------------


@pytest.mark.parametrize("streamed", [False, True])
async def test_tool_use_over_two_turns(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream, streamed: bool
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    sdk = client(live_server, account.token)
    upstream.set(tool_calls=[FakeToolCall("get_weather", {"city": "Paris"})], tool_preamble="Let me check.")
    question = {"role": "user", "content": "Weather in Paris?"}
    ask: dict[str, Any] = {
        "model": model,
        "max_tokens": 200,
        "messages": [question],
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "auto"},
    }
    if streamed:
        with sdk.messages.stream(**ask) as stream:
            first = stream.get_final_message()
    else:
        first = sdk.messages.create(**ask)
    assert first.stop_reason == "tool_use"
    assert [block.type for block in first.content] == ["text", "tool_use"]
    call = first.content[1]
    assert call.type == "tool_use" and call.name == "get_weather" and call.input == {"city": "Paris"}
    sent = upstream.requests[-1].json
    if upstream.name == "openai":
        assert sent["tools"] == [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": WEATHER_TOOL["input_schema"],
                    "description": "The weather in a city.",
                },
            }
        ]
        assert sent["tool_choice"] == "auto"
    else:
        assert sent["tools"] == [WEATHER_TOOL]

    upstream.set(tool_calls=[], tool_preamble="", reply="It is sunny in Paris.")
    second = sdk.messages.create(
        **{
            **ask,
            "messages": [
                question,
                {
                    "role": "assistant",
                    "content": [block.model_dump(exclude_none=True) for block in first.content],
                },
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 24 C"}],
                },
            ],
        }
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "It is sunny in Paris."  # type: ignore[union-attr]
    sent = upstream.requests[-1].json
    if upstream.name == "openai":
        assistant, result = sent["messages"][1], sent["messages"][2]
        assert assistant["role"] == "assistant" and assistant["content"] == "Let me check."
        assert assistant["tool_calls"] == [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ]
        assert result == {"role": "tool", "tool_call_id": call.id, "content": "sunny, 24 C"}
    else:  # the fake rejects a tool_use not answered by its tool_result: passed through whole
        assert sent["messages"][2]["content"][0]["tool_use_id"] == call.id


@pytest.mark.parametrize("streamed", [False, True])
async def test_thinking_comes_in_its_own_block(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream, streamed: bool
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    upstream.set(reply="Blue.", reasoning="Light scatters off small molecules.")
    body = hello(model, thinking={"type": "enabled", "budget_tokens": 1024}, max_tokens=2000)
    sdk = client(live_server, account.token)
    if streamed:
        with sdk.messages.stream(**body) as stream:
            kinds = [event.type for event in stream]
            message = stream.get_final_message()
        assert "thinking" in kinds and "signature" in kinds
    else:
        message = sdk.messages.create(**body)
    assert [block.type for block in message.content] == ["thinking", "text"]
    thinking = message.content[0]
    assert thinking.type == "thinking" and thinking.thinking == "Light scatters off small molecules."
    expected_signature = "sig_fake_35" if upstream.name == "anthropic" else ""
    assert thinking.signature == expected_signature
    assert message.content[1].text == "Blue."  # type: ignore[union-attr]
    assert message.usage.output_tokens == len(reply_pieces("Blue.")) + len(
        reply_pieces("Light scatters off small molecules.")
    )
    if upstream.name == "anthropic":
        assert upstream.requests[-1].json["thinking"] == {"type": "enabled", "budget_tokens": 1024}

    # The next turn sends the thinking back, signature and all.
    upstream.set(reply="Yes.")
    sdk.messages.create(
        model=model,
        max_tokens=100,
        messages=[
            {"role": "user", "content": "Why is the sky blue?"},
            {
                "role": "assistant",
                "content": [block.model_dump(exclude_none=True) for block in message.content],
            },
            {"role": "user", "content": "Sure?"},
        ],
    )
    sent = upstream.requests[-1].json
    if upstream.name == "openai":
        assert sent["messages"][1] == {
            "role": "assistant",
            "content": "Blue.",
            "reasoning_content": "Light scatters off small molecules.",
        }
    else:
        assert sent["messages"][1]["content"][0]["signature"] == "sig_fake_35"


async def test_an_image_is_sent_to_the_model(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    upstream.set(reply="A transparent pixel.")
    message = client(live_server, account.token).messages.create(
        model=model,
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
                    {"type": "text", "text": "What is this?"},
                ],
            }
        ],
    )
    assert message.content[0].text == "A transparent pixel."  # type: ignore[union-attr]
    content = upstream.requests[-1].json["messages"][0]["content"]
    if upstream.name == "openai":
        assert content == [
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
            {"type": "text", "text": "What is this?"},
        ]
    else:
        assert content[0]["source"] == {"type": "base64", "media_type": "image/png", "data": PNG}


# -- count_tokens ----------------------------------------------------------------------------


async def test_count_tokens_is_free_and_counts_what_the_hold_counts(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    model = await routed_model(platform, openai_upstream)
    account = await platform.account("1")
    body = {
        "model": model,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Why is the sky blue?"}],
        "tools": [WEATHER_TOOL],
    }
    counted = client(live_server, account.token).messages.count_tokens(**body)
    assert counted.input_tokens == estimate({**body, "max_tokens": 1}) > 0
    assert openai_upstream.requests == []  # no upstream call
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1)
    with pytest.raises(anthropic.BadRequestError) as unknown:
        client(live_server, account.token).messages.count_tokens(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    assert unknown.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": unknown.value.body["error"]["message"]},
    }  # type: ignore[index]


# -- errors in Anthropic's shape -------------------------------------------------------------


async def test_errors_come_in_anthropics_shape_and_cost_nothing(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")

    with pytest.raises(anthropic.AuthenticationError) as bad_key:
        client(live_server, "ptr_not_a_real_key_000000000000").messages.create(**hello(model))
    assert bad_key.value.status_code == 401
    assert bad_key.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    missing = post(live_server, hello(model))
    assert missing.status_code == 401 and missing.json()["type"] == "error"

    no_cap = post(
        live_server,
        {"model": model, "messages": [{"role": "user", "content": "hi"}]},
        **{"x-api-key": account.token, "anthropic-version": "2023-06-01"},
    )
    assert no_cap.status_code == 400
    assert no_cap.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
    }
    assert "x-request-id" in no_cap.headers

    with pytest.raises(anthropic.BadRequestError) as unknown:
        client(live_server, account.token).messages.create(**hello("no-such-model"))
    assert unknown.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "no-such-model" in unknown.value.body["error"]["message"]  # type: ignore[index]

    broke = await platform.account("0")
    with pytest.raises(anthropic.APIStatusError) as poor:
        client(live_server, broke.token).messages.create(**hello(model))
    assert poor.value.status_code == 402
    assert poor.value.body["error"]["type"] == "billing_error"  # type: ignore[index]

    upstream.set(status=500)
    failed = post(live_server, hello(model), **{"x-api-key": account.token})
    assert failed.status_code == 502 and failed.json()["error"]["type"] == "api_error"
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1)
    assert upstream.calls >= 1


# -- overloaded upstreams ------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
async def test_an_overloaded_upstream_is_anthropic_s_529_overloaded_error(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream, stream: bool
) -> None:
    """Anthropic answers 529 ``overloaded_error`` (an OpenAI-compatible upstream a 503): when
    that was the last route's answer the client gets the same, which its SDK retries."""
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    upstream.set(status=529 if upstream.name == "anthropic" else 503)
    failed = post(live_server, hello(model, stream=stream), **{"x-api-key": account.token})
    assert failed.status_code == 529, failed.text
    error = failed.json()
    assert error["type"] == "error" and error["error"]["type"] == "overloaded_error"
    assert "retry shortly" in error["error"]["message"] and "not been charged" in error["error"]["message"]
    with pytest.raises(anthropic.OverloadedError) as sdk_error:  # the SDK's own class for it
        client(live_server, account.token).messages.create(**hello(model))
    assert sdk_error.value.status_code == 529
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1)
    # The chat completions API keeps its contract: 502 in OpenAI's shape, with its own code.
    chat = httpx.post(
        f"{live_server.api_base}/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=30,
    )
    assert chat.status_code == 502 and chat.json()["error"]["code"] == "UPSTREAM_OVERLOADED"


@pytest.mark.parametrize("stream", [False, True])
async def test_an_overloaded_anthropic_route_falls_back_to_the_next(
    live_server: ServerProcess,
    platform: Platform,
    anthropic_upstream: FakeAnthropicUpstream,
    openai_upstream: FakeOpenAIUpstream,
    stream: bool,
) -> None:
    anthropic_upstream.set(status=529)
    busy = await platform.provider("anthropic", anthropic_upstream.base_url, api_key="sk-up")
    spare = await platform.provider("openai", openai_upstream.base_url, api_key="sk-up")
    model = await platform.model([(busy, "up-model", 1), (spare, "up-model", 2)])
    account = await platform.account("1")
    response = post(live_server, hello(model, stream=stream), **{"x-api-key": account.token})
    assert response.status_code == 200, response.text
    assert response.headers["x-modelsnest-provider"] == spare
    assert anthropic_upstream.calls == 1 and openai_upstream.calls == 1
    assert await platform.invariants(account.user_id) == []


async def test_an_overload_inside_a_native_stream_is_an_overloaded_error_event(
    live_server: ServerProcess, platform: Platform, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    model = await routed_model(platform, anthropic_upstream)
    account = await platform.account("1")
    anthropic_upstream.set(error_event_after=4)  # Anthropic's ``event: error`` after a 200
    response = post(live_server, hello(model, stream=True), **{"x-api-key": account.token})
    assert response.status_code == 200
    name, data = list(sse(response.text))[-1]
    assert name == "error" and data["error"]["type"] == "overloaded_error"
    assert await platform.invariants(account.user_id) == []


async def test_bearer_keys_and_idempotent_retries_work_too(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    model = await routed_model(platform, openai_upstream)
    account = await platform.account("1")
    headers = {"Authorization": f"Bearer {account.token}", "Idempotency-Key": "retry-1"}
    first = post(live_server, hello(model), **headers)
    again = post(live_server, hello(model), **headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert openai_upstream.calls == 1
    other = post(live_server, hello(model, max_tokens=50), **headers)
    assert other.status_code == 409 and other.json()["error"]["type"] == "invalid_request_error"
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - nanos(
        exact_json(first)["usage"]["cost"]
    )


async def test_a_key_spend_limit_applies(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    model = await routed_model(platform, openai_upstream)
    account = await platform.account("1", spend_limit_nanos=1)
    with pytest.raises(anthropic.RateLimitError) as limited:
        client(live_server, account.token).messages.create(**hello(model))
    assert limited.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert openai_upstream.calls == 0


# -- exact cache prices ------------------------------------------------------------------------

CACHE_DIMENSIONS = {"cached_input": "0.0003", "cache_write": "0.00375", "cache_write_1h": "0.006"}


@pytest.mark.parametrize("streamed", [False, True])
async def test_cache_reads_and_writes_are_billed_at_their_own_prices(
    live_server: ServerProcess, platform: Platform, anthropic_upstream: FakeAnthropicUpstream, streamed: bool
) -> None:
    model = await routed_model(
        platform, anthropic_upstream, input_price="0.003", output_price="0.015", dimensions=CACHE_DIMENSIONS
    )
    account = await platform.account("1")
    anthropic_upstream.set(
        reply="one two three",
        prompt_tokens=5_000,
        cached_tokens=3_000,
        cache_write_tokens=1_500,
        cache_write_1h_tokens=500,
    )
    # 500 plain input × 3 000 + 3 000 read × 300 + 1 000 written × 3 750 + 500 written (1 h) × 6 000
    # + 3 output × 15 000 nano-dollars per 1K tokens.
    cost = 1_500_000 + 900_000 + 3_750_000 + 3_000_000 + 45_000
    sdk = client(live_server, account.token)
    if streamed:
        with sdk.messages.stream(**hello(model)) as stream:
            message = stream.get_final_message()
    else:
        message = sdk.messages.create(**hello(model))
    usage = message.usage
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (
        500,
        3_000,
        1_500,
    )
    if not streamed:  # (the SDK's stream accumulator keeps only the usage fields it knows)
        assert nanos(Decimal(str(message.model_dump()["usage"]["cost"]))) == cost
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - cost


@pytest.mark.parametrize("streamed", [False, True])
async def test_openai_cached_tokens_become_cache_reads(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream, streamed: bool
) -> None:
    model = await routed_model(platform, openai_upstream, dimensions={"cached_input": "0.0005"})
    account = await platform.account("1")
    openai_upstream.set(reply="one two three four", prompt_tokens=2_000, cached_tokens=1_024)
    sdk = client(live_server, account.token)
    if streamed:
        with sdk.messages.stream(**hello(model)) as stream:
            message = stream.get_final_message()
    else:
        message = sdk.messages.create(**hello(model))
    assert (message.usage.input_tokens, message.usage.cache_read_input_tokens) == (976, 1_024)
    cost = 976 * 1_000 + 1_024 * 500 + 4 * 2_000  # nano-dollars per 1K tokens, exact here
    if not streamed:  # (the SDK's stream accumulator keeps only the usage fields it knows)
        assert nanos(Decimal(str(message.model_dump()["usage"]["cost"]))) == cost
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - cost


# -- a stream cut mid-way --------------------------------------------------------------------


async def test_a_stream_cut_mid_way_bills_what_was_delivered(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    long_reply = " ".join(f"word{i}" for i in range(40))
    # OpenAI: role chunk + 10 pieces; Anthropic: message_start, ping, block start + 9 pieces.
    upstream.set(reply=long_reply, drop_after=11 if upstream.name == "openai" else 12)
    body = hello(model, stream=True)
    response = post(live_server, body, **{"x-api-key": account.token})
    assert response.status_code == 200
    events = list(sse(response.text))
    texts = [data["delta"]["text"] for name, data in events if name == "content_block_delta"]
    delivered = 10 if upstream.name == "openai" else 9
    assert "".join(texts) == "".join(reply_pieces(long_reply)[:delivered])
    assert events[-1][0] == "error" and events[-1][1]["type"] == "error"
    assert "message_stop" not in [name for name, _ in events]
    row = await usage_row(platform, response.headers["x-request-id"])
    tokens = sum(count_tokens(text) for text in texts)
    assert (row.status, row.prompt_tokens, row.completion_tokens) == ("partial", estimate(body), tokens)
    cost = expected_cost_nanos(estimate(body), tokens, "0.001", "0.002")
    assert row.cost_nanos == cost
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - cost
    assert await platform.invariants(account.user_id) == []


# -- Claude Code, replayed -----------------------------------------------------------------

CLAUDE_CODE_BETA = (
    "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"
)


def claude_code_body(model: str) -> dict[str, Any]:
    """The shape of a request Claude Code sends (system blocks with cache_control, its tools)."""
    return {
        "model": model,
        "max_tokens": 32000,
        "stream": True,
        "temperature": 1,
        "metadata": {"user_id": "user_abc_account__session_123"},
        "system": [
            {
                "type": "text",
                "text": "You are Claude Code, Anthropic's official CLI for Claude.",
                "cache_control": {"type": "ephemeral"},
            },
            {"type": "text", "text": "Working directory: /repo", "cache_control": {"type": "ephemeral"}},
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "<system-reminder>Be careful.</system-reminder>"},
                    {"type": "text", "text": "list the files", "cache_control": {"type": "ephemeral"}},
                ],
            }
        ],
        "tools": [
            {
                "name": "Bash",
                "description": "Executes a bash command.",
                "input_schema": {
                    "type": "object",
                    "properties": {"command": {"type": "string"}, "description": {"type": "string"}},
                    "required": ["command"],
                    "additionalProperties": False,
                    "$schema": "http://json-schema.org/draft-07/schema#",
                },
            },
            {
                "name": "Read",
                "description": "Reads a file.",
                "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
            },
        ],
    }


async def test_a_replayed_claude_code_request_is_answered(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    upstream.set(tool_calls=[FakeToolCall("Bash", {"command": "ls", "description": "List files"})])
    response = post(
        live_server,
        claude_code_body(model),
        "?beta=true",  # the SDK's beta.messages, which Claude Code uses
        **{
            "x-api-key": account.token,
            "anthropic-version": "2023-06-01",
            "anthropic-beta": CLAUDE_CODE_BETA,
            "anthropic-dangerous-direct-browser-access": "true",
            "x-app": "cli",
            "user-agent": "claude-cli/2.0.0 (external, cli)",
        },
    )
    assert response.status_code == 200, response.text
    events = list(sse(response.text))
    names = [name for name, _ in events]
    assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]
    starts = [data["content_block"] for name, data in events if name == "content_block_start"]
    assert starts == [{"type": "tool_use", "id": starts[0]["id"], "name": "Bash", "input": {}}]
    arguments = "".join(
        data["delta"]["partial_json"] for name, data in events if name == "content_block_delta"
    )
    assert arguments == '{"command":"ls","description":"List files"}'
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"

    sent = upstream.requests[-1]
    if upstream.name == "anthropic":
        assert sent.headers["anthropic-beta"] == CLAUDE_CODE_BETA  # handed on
        assert sent.json["system"] == claude_code_body(model)["system"]  # cache_control kept
    else:
        assert "anthropic-beta" not in sent.headers
        assert sent.json["messages"][0] == {
            "role": "system",
            "content": "You are Claude Code, Anthropic's official CLI for Claude.\nWorking directory: /repo",
        }
        assert [tool["function"]["name"] for tool in sent.json["tools"]] == ["Bash", "Read"]
    row = await usage_row(platform, response.headers["x-request-id"])
    assert row.status == "success" and row.cost_nanos > 0


async def test_parallel_tool_calls_stream_as_separate_tool_use_blocks(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    upstream.set(
        tool_calls=[
            FakeToolCall("get_weather", {"city": "Paris"}),
            FakeToolCall("get_weather", {"city": "Rome"}),
        ]
    )
    ask = {"model": model, "max_tokens": 200, "messages": [{"role": "user", "content": "Paris and Rome?"}]}
    with client(live_server, account.token).messages.stream(**ask, tools=[WEATHER_TOOL]) as stream:
        message = stream.get_final_message()
    assert message.stop_reason == "tool_use"
    calls = [block for block in message.content if block.type == "tool_use"]
    assert [call.input for call in calls] == [{"city": "Paris"}, {"city": "Rome"}]
    assert len({call.id for call in calls}) == 2


async def test_a_requests_per_minute_limit_is_a_429_in_anthropics_shape(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    model = await routed_model(platform, openai_upstream)
    account = await platform.account("1", rpm_limit=1)
    sdk = client(live_server, account.token)
    sdk.messages.create(**hello(model))
    with pytest.raises(anthropic.RateLimitError) as limited:
        sdk.messages.create(**hello(model))
    assert limited.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert int(limited.value.response.headers["retry-after"]) >= 1
    assert openai_upstream.calls == 1


async def test_a_stream_without_upstream_usage_is_billed_by_our_count(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    upstream.set(reply=REPLY, omit_usage=True)
    body = hello(model, stream=True)
    response = post(live_server, body, **{"x-api-key": account.token})
    events = list(sse(response.text))
    assert [name for name, _ in events][-2:] == ["message_delta", "message_stop"]
    row = await usage_row(platform, response.headers["x-request-id"])
    tokens = sum(count_tokens(piece) for piece in reply_pieces(REPLY))
    assert (row.prompt_tokens, row.completion_tokens) == (estimate(body), tokens)
    assert row.cost_nanos == expected_cost_nanos(estimate(body), tokens, "0.001", "0.002")
    assert events[-2][1]["usage"]["output_tokens"] == tokens


async def test_an_answer_without_upstream_usage_is_billed_by_our_count(
    live_server: ServerProcess, platform: Platform, upstream: FakeUpstream
) -> None:
    model = await routed_model(platform, upstream)
    account = await platform.account("1")
    upstream.set(reply=REPLY, omit_usage=True)
    message = client(live_server, account.token).messages.create(**hello(model))
    tokens = sum(count_tokens(piece) for piece in reply_pieces(REPLY))
    assert (message.usage.input_tokens, message.usage.output_tokens) == (estimate(hello(model)), tokens)
    cost = expected_cost_nanos(estimate(hello(model)), tokens, "0.001", "0.002")
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - cost
