"""The Anthropic adapter against the fake Messages API, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from modelsnest.providers.anthropic import AnthropicProvider, StreamTranslator
from modelsnest.providers.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderConnectError,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
)
from modelsnest.providers.tokens import count_tokens
from modelsnest.providers.types import ChatChunk, ProviderConfig
from tests.fakes.anthropic_upstream import FakeAnthropicUpstream
from tests.fakes.raw import RawServer
from tests.fakes.server import Behaviour, FakeToolCall, fake_prompt_tokens, reply_pieces

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}]
TOOLS = [
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


def request(**extra: Any) -> dict[str, Any]:
    return {"model": "public/claude", "messages": MESSAGES, **extra}


def config(fake: FakeAnthropicUpstream, **overrides: Any) -> ProviderConfig:
    values: dict[str, Any] = {
        "name": "fake-anthropic",
        "kind": "anthropic",
        "base_url": fake.base_url,
        "api_key": "sk-ant-test",
        "first_byte_timeout": 2,
        "total_timeout": 10,
    }
    values.update(overrides)
    return ProviderConfig(**values)


@pytest.fixture
async def provider(anthropic_upstream: FakeAnthropicUpstream) -> AsyncIterator[AnthropicProvider]:
    adapter = AnthropicProvider(config(anthropic_upstream))
    yield adapter
    await adapter.close()


async def collect(stream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in stream]


async def test_chat(provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream) -> None:
    result = await provider.chat(request(max_tokens=100, temperature=0.2), "claude-up")
    sent = anthropic_upstream.last
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "sk-ant-test"
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.json == {
        "model": "claude-up",
        "max_tokens": 100,
        "temperature": 0.2,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Say hello"}],
    }
    body = result.body
    assert body["object"] == "chat.completion" and body["id"] == "msg_fake1" and body["model"] == "claude-up"
    assert body["choices"][0]["message"]["content"] == Behaviour().reply
    assert body["choices"][0]["finish_reason"] == "stop"
    prompt = fake_prompt_tokens([MESSAGES[1]], "Be brief.")
    completion = len(reply_pieces(Behaviour().reply))
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (prompt, completion)
    assert body["usage"]["total_tokens"] == prompt + completion


async def test_default_max_tokens_and_base_url_with_v1(anthropic_upstream: FakeAnthropicUpstream) -> None:
    adapter = AnthropicProvider(
        config(
            anthropic_upstream,
            base_url=anthropic_upstream.base_url + "/v1/",
            extra={"default_max_tokens": 321, "anthropic_beta": "x-2025"},
        )
    )
    try:
        await adapter.chat(request(), "c")
    finally:
        await adapter.close()
    assert anthropic_upstream.last.json["max_tokens"] == 321
    assert anthropic_upstream.last.headers["anthropic-beta"] == "x-2025"


async def test_cached_tokens_count_as_prompt(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    anthropic_upstream.set(cached_tokens=4)
    result = await provider.chat(request(), "c")
    assert result.usage.prompt_tokens == fake_prompt_tokens([MESSAGES[1]], "Be brief.")
    assert result.body["usage"]["prompt_tokens_details"] == {"cached_tokens": 4}


@pytest.mark.parametrize("stream", [False, True])
async def test_cache_reads_and_writes_are_normalised_to_openai_convention(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream, stream: bool
) -> None:
    # Anthropic reports input_tokens WITHOUT cache reads and writes; we add them back.
    anthropic_upstream.set(
        reply="one two",
        prompt_tokens=5000,
        cached_tokens=3000,
        cache_write_tokens=1500,
        cache_write_1h_tokens=500,
    )
    if stream:
        chunks = [chunk async for chunk in provider.chat_stream(request(), "c")]
        usage = chunks[-1].usage
        reported = chunks[-1].data["usage"]
    else:
        result = await provider.chat(request(), "c")
        usage, reported = result.usage, result.body["usage"]
    assert usage is not None
    assert (
        usage.prompt_tokens,
        usage.cached_tokens,
        usage.cache_write_tokens,
        usage.cache_write_1h_tokens,
    ) == (
        5000,
        3000,
        1500,
        500,
    )
    assert usage.completion_tokens == 2
    assert reported["prompt_tokens"] == 5000
    assert reported["prompt_tokens_details"] == {"cached_tokens": 3000, "cache_write_tokens": 1500}


async def test_stream_usage_fields_accumulate_across_events() -> None:
    translator = StreamTranslator("c", 1)
    translator.feed(
        {
            "type": "message_start",
            "message": {
                "id": "m",
                "usage": {"input_tokens": 10, "cache_read_input_tokens": 90, "output_tokens": 1},
            },
        }
    )
    # A newer API repeats the input counts in message_delta; an older one sends only output_tokens.
    translator.feed({"type": "message_delta", "delta": {}, "usage": {"output_tokens": 7}})
    final = translator.feed({"type": "message_stop"})
    assert final is not None and final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.cached_tokens, final.usage.completion_tokens) == (
        100,
        90,
        7,
    )


@pytest.mark.parametrize(
    ("behaviour", "extra", "finish_reason", "text"),
    [
        ({"reply": "one two three four"}, {"max_tokens": 2}, "length", "one two"),
        ({"reply": "one two STOP three"}, {"stop": ["STOP"]}, "stop", "one two "),
        ({"reply": "fine"}, {}, "stop", "fine"),
    ],
)
async def test_stop_reasons(
    provider: AnthropicProvider,
    anthropic_upstream: FakeAnthropicUpstream,
    behaviour: dict[str, Any],
    extra: dict[str, Any],
    finish_reason: str,
    text: str,
) -> None:
    anthropic_upstream.set(**behaviour)
    result = await provider.chat(request(**extra), "c")
    assert result.body["choices"][0]["finish_reason"] == finish_reason
    assert result.body["choices"][0]["message"]["content"] == text
    chunks = await collect(provider.chat_stream(request(**extra), "c"))
    finishes = [c.data["choices"][0]["finish_reason"] for c in chunks if c.data["choices"]]
    assert finishes[-1] == finish_reason
    assert (
        "".join(c.data["choices"][0]["delta"].get("content", "") for c in chunks if c.data["choices"]) == text
    )


async def test_images_and_multipart(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    content = [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    await provider.chat(request(messages=[{"role": "user", "content": content}]), "c")
    assert anthropic_upstream.last.json["messages"][0]["content"] == [
        {"type": "text", "text": "What is it?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
    ]


async def test_tool_round_trip(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    anthropic_upstream.set(
        tool_calls=[FakeToolCall("get_weather", {"city": "Paris"})], tool_preamble="Let me check."
    )
    result = await provider.chat(request(tools=TOOLS, tool_choice="required"), "c")
    sent = anthropic_upstream.last.json
    assert sent["tools"][0]["name"] == "get_weather" and sent["tool_choice"] == {"type": "any"}
    choice = result.body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me check."
    call = choice["message"]["tool_calls"][0]
    assert call["id"] == "toolu_fake_0" and orjson.loads(call["function"]["arguments"]) == {"city": "Paris"}

    # The client sends the call and its result back: the fake validates the pairing.
    anthropic_upstream.set(tool_calls=[], reply="It is 18C in Paris.")
    history = [*MESSAGES, choice["message"], {"role": "tool", "tool_call_id": call["id"], "content": "18C"}]
    followup = await provider.chat(request(messages=history, tools=TOOLS), "c")
    assert followup.body["choices"][0]["message"]["content"] == "It is 18C in Paris."
    assert anthropic_upstream.last.json["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_fake_0", "name": "get_weather", "input": {"city": "Paris"}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_fake_0", "content": "18C"}],
        },
    ]


async def test_stream_events_become_chunks(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    anthropic_upstream.set(keepalive=True)
    chunks = await collect(provider.chat_stream(request(), "claude-up"))
    assert anthropic_upstream.last.json["stream"] is True
    assert {c.data["id"] for c in chunks} == {"msg_fake1"}
    assert {c.data["created"] for c in chunks} == {chunks[0].data["created"]}
    assert {c.data["model"] for c in chunks} == {"claude-up"}
    assert all(c.data["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0].data["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c.data["choices"][0]["delta"].get("content", "") for c in chunks if c.data["choices"])
    assert text == Behaviour().reply
    last = chunks[-1]
    assert last.data["choices"] == [] and last.usage is not None
    completion = len(reply_pieces(Behaviour().reply))
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (
        fake_prompt_tokens([MESSAGES[1]], "Be brief."),
        completion,
    )
    assert last.data["usage"]["completion_tokens"] == completion
    assert sum(c.completion_tokens_delta for c in chunks) == count_tokens(Behaviour().reply)
    assert [c for c in chunks if c.usage is not None] == [last]
    await collect(provider.chat_stream(request(), "claude-up"))
    assert len({r.peer for r in anthropic_upstream.requests}) == 1  # the connection was reused


async def test_stream_tool_calls(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    calls = [
        FakeToolCall("get_weather", {"city": "Paris"}),
        FakeToolCall("get_weather", {"city": "Rome, Italy"}),
    ]
    anthropic_upstream.set(tool_calls=calls, tool_preamble="Checking both.")
    chunks = await collect(provider.chat_stream(request(tools=TOOLS), "c"))
    deltas = [c.data["choices"][0]["delta"] for c in chunks if c.data["choices"]]
    tool_deltas = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    starts = [d for d in tool_deltas if "id" in d]
    assert [(d["index"], d["id"], d["function"]["name"]) for d in starts] == [
        (0, "toolu_fake_0", "get_weather"),
        (1, "toolu_fake_1", "get_weather"),
    ]
    for index, call in enumerate(calls):
        arguments = "".join(d["function"]["arguments"] for d in tool_deltas if d["index"] == index)
        assert orjson.loads(arguments) == call.arguments
    assert "".join(d.get("content") or "" for d in deltas) == "Checking both."
    assert [c.data["choices"][0]["finish_reason"] for c in chunks if c.data["choices"]][-1] == "tool_calls"
    assert chunks[-1].usage is not None


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ProviderBadRequest),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (429, ProviderRateLimited),
        (500, ProviderServerError),
        (529, ProviderServerError),
    ],
)
async def test_http_errors(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream, status: int, cls: type[Exception]
) -> None:
    anthropic_upstream.set(status=status)
    with pytest.raises(cls) as info:
        await provider.chat(request(), "c")
    assert info.value.status == status  # type: ignore[attr-defined]
    expected = "Overloaded" if status == 529 else f"fake error {status}"
    assert info.value.message == expected  # type: ignore[attr-defined]
    with pytest.raises(cls):
        await collect(provider.chat_stream(request(), "c"))


async def test_upstream_validation_errors_carry_the_message(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    call = {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    history = [
        *MESSAGES,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_b", "content": "18C"},
    ]
    with pytest.raises(ProviderBadRequest, match="tool_use ids were found without tool_result") as info:
        await provider.chat(request(messages=history, tools=TOOLS), "c")
    assert not info.value.retryable and info.value.status == 400
    anthropic_upstream.set(expected_api_key="another")
    with pytest.raises(ProviderAuthError, match="x-api-key"):
        await provider.chat(request(), "c")


async def test_in_stream_error_event(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    anthropic_upstream.set(error_event_after=4)
    received: list[ChatChunk] = []
    with pytest.raises(ProviderServerError, match="Overloaded") as info:
        async for chunk in provider.chat_stream(request(), "c"):
            received.append(chunk)
    assert info.value.status == 529
    assert sum(c.completion_tokens_delta for c in received) == 1  # one text delta got through


async def test_mid_stream_drop(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    anthropic_upstream.set(drop_after=5)
    with pytest.raises(ProviderConnectError):
        await collect(provider.chat_stream(request(), "c"))


async def test_stream_without_message_stop_is_a_protocol_error() -> None:
    start = {
        "type": "message_start",
        "message": {"id": "msg_1", "model": "c", "usage": {"input_tokens": 3, "output_tokens": 1}},
    }
    body = b"event: message_start\ndata: " + orjson.dumps(start) + b"\n\n"
    async with RawServer(body) as server:
        adapter = AnthropicProvider(ProviderConfig(name="x", kind="anthropic", base_url=server.url))
        try:
            with pytest.raises(ProviderProtocolError, match="message_stop"):
                await collect(adapter.chat_stream(request(), "c"))
        finally:
            await adapter.close()


async def test_first_byte_timeout(anthropic_upstream: FakeAnthropicUpstream) -> None:
    anthropic_upstream.set(headers_delay=5)
    adapter = AnthropicProvider(config(anthropic_upstream, first_byte_timeout=0.2))
    try:
        with pytest.raises(ProviderTimeout):
            await collect(adapter.chat_stream(request(), "c"))
    finally:
        await adapter.close()
    assert await anthropic_upstream.wait_for_disconnect()


async def test_aclose_stops_the_upstream(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    anthropic_upstream.set(chunk_delay=0.05)
    stream = provider.chat_stream(request(), "c")
    await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    assert await anthropic_upstream.wait_for_disconnect()


# -- native Messages (``/api/v1/messages`` passes Anthropic's body through) -----------------

NATIVE = {"model": "claude", "max_tokens": 50, "messages": [{"role": "user", "content": "Say hello"}]}


async def test_native_messages_pass_the_body_and_beta_flags_through(
    anthropic_upstream: FakeAnthropicUpstream,
) -> None:
    adapter = AnthropicProvider(config(anthropic_upstream, extra={"anthropic_beta": "configured-1"}))
    try:
        result = await adapter.messages(
            {**NATIVE, "stream": False, "top_k": 5}, "claude-up", ("client-2", "configured-1")
        )
    finally:
        await adapter.close()
    sent = anthropic_upstream.last
    assert sent.json == {**NATIVE, "model": "claude-up", "top_k": 5}
    assert sent.headers["anthropic-beta"] == "configured-1,client-2"
    assert result.message["content"] == [{"type": "text", "text": Behaviour().reply}]
    assert result.usage.completion_tokens == len(reply_pieces(Behaviour().reply))


async def test_native_stream_yields_events_with_the_usage_on_message_delta(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    anthropic_upstream.set(reply="one two", prompt_tokens=30, cached_tokens=10)
    chunks = await collect(provider.messages_stream(NATIVE, "claude-up"))
    kinds = [chunk.data["type"] for chunk in chunks]
    assert (
        kinds[:2] == ["message_start", "ping"] and kinds[-1] == "message_delta"
    )  # message_stop is not yielded
    assert "anthropic-beta" not in anthropic_upstream.last.headers
    assert anthropic_upstream.last.json["stream"] is True
    final = chunks[-1].usage
    assert final is not None and (final.prompt_tokens, final.cached_tokens, final.completion_tokens) == (
        30,
        10,
        2,
    )
    assert all(chunk.usage is None for chunk in chunks[:-1])
    assert sum(chunk.completion_tokens_delta for chunk in chunks) == sum(
        count_tokens(p) for p in reply_pieces("one two")
    )


async def test_native_stream_error_event_raises(
    provider: AnthropicProvider, anthropic_upstream: FakeAnthropicUpstream
) -> None:
    anthropic_upstream.set(error_event_after=3)
    with pytest.raises(ProviderServerError):
        await collect(provider.messages_stream(NATIVE, "claude-up"))
