"""The OpenAI-compatible adapter against the fake OpenAI upstream, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from modelsnest.providers.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderConnectError,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
)
from modelsnest.providers.openai_compat import OpenAICompatProvider, usage_from_openai
from modelsnest.providers.tokens import count_tokens, estimate_prompt_tokens
from modelsnest.providers.types import ChatChunk, ProviderConfig
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.raw import RawServer
from tests.fakes.server import Behaviour, FakeToolCall, fake_prompt_tokens, reply_pieces

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]


def request(**extra: Any) -> dict[str, Any]:
    return {"model": "public/model", "messages": MESSAGES, **extra}


@pytest.fixture
async def provider(openai_upstream: FakeOpenAIUpstream) -> AsyncIterator[OpenAICompatProvider]:
    config = ProviderConfig(
        name="fake-openai",
        kind="openai",
        base_url=openai_upstream.base_url,
        api_key="sk-test",
        first_byte_timeout=2,
        total_timeout=10,
    )
    adapter = OpenAICompatProvider(config)
    yield adapter
    await adapter.close()


async def collect(stream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in stream]


async def test_chat_forwards_body_and_reads_usage(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    result = await provider.chat(
        request(temperature=0.3, stream=False, vendor_extra={"x": [1, 2]}), "up-model"
    )
    sent = openai_upstream.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert sent.json == {
        "model": "up-model",
        "messages": MESSAGES,
        "temperature": 0.3,
        "stream": False,
        "vendor_extra": {"x": [1, 2]},
    }
    assert result.body["choices"][0]["message"]["content"] == Behaviour().reply
    assert result.body["object"] == "chat.completion"
    assert result.upstream_model == "up-model"
    completion = len(reply_pieces(Behaviour().reply))
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (
        fake_prompt_tokens(MESSAGES),
        completion,
    )
    assert result.usage.reported


async def test_chat_drops_stream_options_for_non_streamed_calls(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    await provider.chat(request(stream=True, stream_options={"include_usage": True}), "m")
    assert openai_upstream.last.json["stream"] is False
    assert "stream_options" not in openai_upstream.last.json


async def test_chat_without_usage_counts_locally(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(omit_usage=True, reply="Four words right here")
    result = await provider.chat(request(), "m")
    assert not result.usage.reported
    assert result.usage.prompt_tokens == estimate_prompt_tokens(MESSAGES)
    assert result.usage.completion_tokens == count_tokens("Four words right here")


async def test_no_authorization_without_key(openai_upstream: FakeOpenAIUpstream) -> None:
    adapter = OpenAICompatProvider(
        ProviderConfig(name="local", kind="openai", base_url=openai_upstream.base_url + "/")
    )
    try:
        await adapter.chat(request(), "m")
    finally:
        await adapter.close()
    assert "Authorization" not in openai_upstream.last.headers


async def test_stream_always_requests_usage(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(keepalive=True)
    chunks = await collect(
        provider.chat_stream(request(stream_options={"include_obfuscation": False}, foo="bar"), "up")
    )
    sent = openai_upstream.last.json
    assert sent["stream"] is True and sent["model"] == "up" and sent["foo"] == "bar"
    assert sent["stream_options"] == {"include_obfuscation": False, "include_usage": True}
    text = "".join(c.data["choices"][0]["delta"].get("content", "") for c in chunks if c.data["choices"])
    assert text == Behaviour().reply
    assert chunks[0].data["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert [c.data["choices"][0]["finish_reason"] for c in chunks if c.data["choices"]][-1] == "stop"
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert usage_chunks == [chunks[-1]] and chunks[-1].data["choices"] == []
    assert chunks[-1].usage is not None and chunks[-1].usage.reported
    assert chunks[-1].usage.completion_tokens == len(reply_pieces(Behaviour().reply))
    assert sum(c.completion_tokens_delta for c in chunks) == count_tokens(Behaviour().reply)
    assert len({c.data["id"] for c in chunks}) == 1


async def test_stream_without_upstream_usage_ends_with_local_usage(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(omit_usage=True, omit_done=True)
    chunks = await collect(provider.chat_stream(request(), "up"))
    last = chunks[-1]
    assert last.usage is not None and not last.usage.reported
    assert last.usage.completion_tokens == sum(c.completion_tokens_delta for c in chunks) > 0
    assert last.usage.prompt_tokens == estimate_prompt_tokens(MESSAGES)
    assert last.data["choices"] == [] and last.data["usage"]["total_tokens"] == last.usage.total_tokens


async def test_stream_connection_goes_back_to_the_pool(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    await collect(provider.chat_stream(request(), "m"))
    await provider.chat(request(), "m")
    await collect(provider.chat_stream(request(), "m"))
    peers = {r.peer for r in openai_upstream.requests}
    assert len(peers) == 1


async def test_tool_calls_round_trip(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
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
    call = FakeToolCall("get_weather", {"city": "Paris", "unit": "celsius"})
    openai_upstream.set(tool_calls=[call])
    result = await provider.chat(request(tools=tools, tool_choice="auto"), "m")
    assert openai_upstream.last.json["tools"] == tools and openai_upstream.last.json["tool_choice"] == "auto"
    choice = result.body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": call.arguments_json,
    }

    chunks = await collect(provider.chat_stream(request(tools=tools), "m"))
    deltas = [c.data["choices"][0]["delta"] for c in chunks if c.data["choices"]]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert calls[0]["id"] == "call_fake_0" and calls[0]["function"]["name"] == "get_weather"
    assert "".join(c["function"]["arguments"] for c in calls) == call.arguments_json
    assert sum(c.completion_tokens_delta for c in chunks) == sum(
        count_tokens(c["function"]["arguments"]) for c in calls
    )

    history = [
        *MESSAGES,
        choice["message"],
        {"role": "tool", "tool_call_id": "call_fake_0", "content": "21C"},
    ]
    openai_upstream.set(tool_calls=[])
    await provider.chat(request(messages=history, tools=tools), "m")
    assert openai_upstream.last.json["messages"] == history


async def test_images_pass_through(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    content = [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
    ]
    await provider.chat(request(messages=[{"role": "user", "content": content}]), "m")
    assert openai_upstream.last.json["messages"][0]["content"] == content


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, ProviderBadRequest, False),
        (401, ProviderAuthError, True),
        (404, ProviderBadRequest, False),
        (429, ProviderRateLimited, True),
        (500, ProviderServerError, True),
        (503, ProviderServerError, True),
    ],
)
async def test_http_errors_are_mapped(
    provider: OpenAICompatProvider,
    openai_upstream: FakeOpenAIUpstream,
    status: int,
    cls: type[Exception],
    retryable: bool,
) -> None:
    openai_upstream.set(status=status, headers={"Retry-After": "3"})
    with pytest.raises(cls) as info:
        await provider.chat(request(), "m")
    assert info.value.retryable is retryable  # type: ignore[attr-defined]
    assert info.value.status == status  # type: ignore[attr-defined]
    assert info.value.message == f"fake upstream error {status}"  # type: ignore[attr-defined]
    with pytest.raises(cls):
        await collect(provider.chat_stream(request(), "m"))


async def test_bad_request_carries_the_upstream_message(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(
        status=400,
        error_body={
            "error": {
                "message": "Invalid 'messages[0].role'",
                "type": "invalid_request_error",
                "param": "messages",
                "code": None,
            }
        },
    )
    with pytest.raises(ProviderBadRequest, match=r"Invalid 'messages\[0\]\.role'") as info:
        await provider.chat(request(), "m")
    assert "invalid_request_error" in (info.value.body or "")


async def test_wrong_key_is_an_auth_error(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(expected_api_key="sk-other")
    with pytest.raises(ProviderAuthError, match="Incorrect API key"):
        await provider.chat(request(), "m")


async def test_fail_times_then_success(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(status=500, fail_times=1)
    with pytest.raises(ProviderServerError):
        await provider.chat(request(), "m")
    assert (await provider.chat(request(), "m")).usage.reported
    assert openai_upstream.calls == 2


async def test_stream_stall_times_out(openai_upstream: FakeOpenAIUpstream) -> None:
    openai_upstream.set(hang_after=3)
    adapter = OpenAICompatProvider(
        ProviderConfig(name="stall", kind="openai", base_url=openai_upstream.base_url, first_byte_timeout=0.2)
    )
    received: list[ChatChunk] = []
    try:
        with pytest.raises(ProviderTimeout):
            async for chunk in adapter.chat_stream(request(), "m"):
                received.append(chunk)
    finally:
        await adapter.close()
    assert len(received) == 3


async def test_total_timeout(openai_upstream: FakeOpenAIUpstream) -> None:
    openai_upstream.set(chunk_delay=0.1)
    adapter = OpenAICompatProvider(
        ProviderConfig(name="t", kind="openai", base_url=openai_upstream.base_url, total_timeout=0.35)
    )
    try:
        with pytest.raises(ProviderTimeout, match="total"):
            await collect(adapter.chat_stream(request(), "m"))
    finally:
        await adapter.close()


async def test_mid_stream_drop_is_a_connect_error(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(drop_after=4)
    received: list[ChatChunk] = []
    with pytest.raises(ProviderConnectError):
        async for chunk in provider.chat_stream(request(), "m"):
            received.append(chunk)
    assert len(received) == 4
    assert sum(c.completion_tokens_delta for c in received) == 3  # three one-word pieces were delivered


async def test_mid_stream_error_event(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(error_event_after=2)
    with pytest.raises(ProviderServerError, match="server had an error"):
        await collect(provider.chat_stream(request(), "m"))


async def test_truncated_stream_is_a_protocol_error() -> None:
    # The body ends cleanly, but before any finish_reason or usage arrived.
    body = b'data: {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": null}]}\n\n'
    async with RawServer(body) as server:
        adapter = OpenAICompatProvider(ProviderConfig(name="x", kind="openai", base_url=server.url))
        received: list[ChatChunk] = []
        try:
            with pytest.raises(ProviderProtocolError, match="before the answer finished"):
                async for chunk in adapter.chat_stream(request(), "m"):
                    received.append(chunk)
        finally:
            await adapter.close()
    assert [c.completion_tokens_delta for c in received] == [1]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"object": "list"}', ProviderProtocolError),
        (b'{"error": {"message": "model overloaded", "code": 503}}', ProviderServerError),
        (b'{"error": {"message": "context too long", "code": 400}}', ProviderBadRequest),
    ],
)
async def test_unusable_json_answers(body: bytes, error: type[Exception]) -> None:
    async with RawServer(body, "application/json") as server:
        adapter = OpenAICompatProvider(ProviderConfig(name="x", kind="openai", base_url=server.url))
        try:
            with pytest.raises(error):
                await adapter.chat(request(), "m")
        finally:
            await adapter.close()


async def test_aclose_stops_reading_the_upstream(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(chunk_delay=0.05)
    stream = provider.chat_stream(request(), "m")
    first = await anext(stream)
    assert first.data["choices"][0]["delta"]["role"] == "assistant"
    await stream.aclose()  # type: ignore[attr-defined]
    assert await openai_upstream.wait_for_disconnect()
    # The next request opens a fresh connection and works.
    assert (await provider.chat(request(), "m")).usage.reported


async def test_cancelled_consumer_stops_the_upstream(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(hang_after=2)

    async def consume() -> None:
        await collect(provider.chat_stream(request(), "m"))

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await openai_upstream.wait_for_disconnect()


async def test_novita_default_base_url() -> None:
    adapter = OpenAICompatProvider(ProviderConfig(name="novita", kind="novita", api_key="k"))
    assert str(adapter._chat_url) == "https://api.novita.ai/v3/openai/chat/completions"
    with pytest.raises(ValueError, match="base_url"):
        OpenAICompatProvider(ProviderConfig(name="x", kind="vllm"))


async def test_in_loop_fake(openai_upstream_in_loop: FakeOpenAIUpstream) -> None:
    fake = openai_upstream_in_loop
    adapter = OpenAICompatProvider(ProviderConfig(name="x", kind="openai", base_url=fake.base_url))
    try:
        assert (await adapter.chat(request(), "m")).usage.reported
    finally:
        await adapter.close()
    assert fake.calls == 1


async def test_usage_details_are_read_in_openai_convention(
    provider: OpenAICompatProvider, openai_upstream: FakeOpenAIUpstream
) -> None:
    openai_upstream.set(
        reply="one two three",
        prompt_tokens=900,
        cached_tokens=512,
        audio_input_tokens=100,
        cache_write_tokens=64,
        reasoning_tokens=40,
        audio_output_tokens=7,
    )
    usage = (await provider.chat(request(), "up")).usage
    # The details are parts of the totals, as OpenAI reports them.
    assert (usage.prompt_tokens, usage.cached_tokens, usage.audio_input_tokens, usage.cache_write_tokens) == (
        900,
        512,
        100,
        64,
    )
    assert (usage.completion_tokens, usage.reasoning_tokens, usage.audio_output_tokens) == (3 + 40 + 7, 40, 7)

    chunks = await collect(provider.chat_stream(request(), "up"))
    final = chunks[-1]
    assert final.usage is not None and final.data["choices"] == []
    assert (final.usage.prompt_tokens, final.usage.cached_tokens, final.usage.reasoning_tokens) == (
        900,
        512,
        40,
    )


def test_deepseek_and_proxy_cache_fields_are_understood() -> None:
    deepseek = usage_from_openai(
        {
            "prompt_tokens": 1000,
            "completion_tokens": 20,
            "prompt_cache_hit_tokens": 768,
            "prompt_cache_miss_tokens": 232,
            "completion_tokens_details": {"reasoning_tokens": 12},
        }
    )
    assert deepseek is not None
    assert (deepseek.cached_tokens, deepseek.reasoning_tokens) == (768, 12)
    proxied = usage_from_openai(
        {"prompt_tokens": 50, "completion_tokens": 1, "cache_creation_input_tokens": 30}
    )
    assert proxied is not None and proxied.cache_write_tokens == 30
    junk = usage_from_openai({"prompt_tokens": 5, "prompt_tokens_details": {"cached_tokens": "many"}})
    assert junk is not None and junk.cached_tokens == 0
