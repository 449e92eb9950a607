"""Which timeout bounds which call: ``first_byte_timeout`` the silences of a stream, the
``total_timeout`` (plus connect) a non-streamed call, which only answers once the whole
generation is done (so a long answer must not time out and be paid twice on another route)."""

from __future__ import annotations

from typing import Any

import pytest

from modelsnest.providers.anthropic import AnthropicProvider
from modelsnest.providers.errors import ProviderTimeout
from modelsnest.providers.media_types import SpeechRequest
from modelsnest.providers.openai_compat import OpenAICompatProvider
from modelsnest.providers.types import ProviderConfig
from tests.fakes.anthropic_upstream import FakeAnthropicUpstream
from tests.fakes.openai_upstream import FakeOpenAIUpstream

CHAT: dict[str, Any] = {
    "model": "m",
    "messages": [{"role": "user", "content": "Say hello"}],
    "max_tokens": 50,
}


def openai(fake: FakeOpenAIUpstream, **timeouts: float) -> OpenAICompatProvider:
    return OpenAICompatProvider(ProviderConfig(name="t", kind="openai", base_url=fake.base_url, **timeouts))  # type: ignore[arg-type]


async def test_first_byte_timeout_bounds_streams_only(openai_upstream: FakeOpenAIUpstream) -> None:
    openai_upstream.set(headers_delay=0.5)
    adapter = openai(openai_upstream, first_byte_timeout=0.2, total_timeout=5)
    try:
        with pytest.raises(ProviderTimeout, match="first-byte"):
            async for _ in adapter.chat_stream(CHAT, "m"):
                pass
        assert await openai_upstream.wait_for_disconnect(1)
        result = await adapter.chat(CHAT, "m")  # slower than first_byte_timeout, and fine
        assert result.body["choices"][0]["message"]["content"]
        speech = await adapter.speech(SpeechRequest(text="Hi", voice="alloy", response_format="pcm"), "tts-1")
        assert speech.audio
    finally:
        await adapter.close()


async def test_non_streamed_calls_are_bounded_by_the_total_timeout(
    openai_upstream: FakeOpenAIUpstream,
) -> None:
    openai_upstream.set(headers_delay=5)
    adapter = openai(openai_upstream, first_byte_timeout=0.05, total_timeout=0.3)
    try:
        with pytest.raises(ProviderTimeout, match="total"):
            await adapter.chat(CHAT, "m")
        with pytest.raises(ProviderTimeout, match="total"):
            await adapter.embeddings({"input": "x"}, "m")
    finally:
        await adapter.close()
    assert await openai_upstream.wait_for_disconnect(2)


async def test_anthropic_non_streamed_answer_outlasts_the_first_byte_timeout(
    anthropic_upstream: FakeAnthropicUpstream,
) -> None:
    anthropic_upstream.set(headers_delay=0.4)
    config = ProviderConfig(
        name="a",
        kind="anthropic",
        base_url=anthropic_upstream.base_url,
        first_byte_timeout=0.1,
        total_timeout=5,
    )
    adapter = AnthropicProvider(config)
    try:
        result = await adapter.chat(CHAT, "claude")
        assert result.usage.completion_tokens > 0
    finally:
        await adapter.close()
