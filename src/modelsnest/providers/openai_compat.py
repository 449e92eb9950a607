"""Any OpenAI-compatible chat completions upstream: OpenAI, Novita, DeepSeek, Groq, Together,
OpenRouter, Mistral, vLLM, Ollama, llama.cpp, … (``POST {base_url}/chat/completions``).
Embeddings, images, transcription and speech go to OpenAI's media endpoints under the same
base URL (``openai_media``); video is not served here (Novita's is in ``novita``).

The request body is forwarded as it came, every field included (unknown extras too); only
``model`` becomes the upstream's model id, ``stream`` is set for the call made, and a stream
always asks for ``stream_options.include_usage`` so the upstream reports what it billed.

Streams: one ``ChatChunk`` per SSE event, its dict untouched. ``completion_tokens_delta`` is
the local count (``tokens.count_tokens``) of the content, reasoning and tool-call-argument text
in the event. A chunk carrying ``usage`` gets ``ChatChunk.usage`` (usage is cumulative: the
last one wins). A stream that completes without any usage from the upstream ends with a
synthesized usage chunk (``choices: []``) counted locally, with ``Usage.reported = False``.
A mid-stream ``{"error": …}`` event (OpenRouter, vLLM) raises the matching ``ProviderError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any, ClassVar

import orjson

from modelsnest.providers.base import usage_chunk
from modelsnest.providers.errors import ProviderProtocolError
from modelsnest.providers.http import UpstreamHTTP
from modelsnest.providers.media_base import (
    CHAT,
    EMBEDDINGS,
    IMAGES,
    SPEECH,
    STREAM,
    TRANSCRIPTION,
    UnsupportedMedia,
)
from modelsnest.providers.openai_media import OpenAIMedia, raise_error_body
from modelsnest.providers.tokens import count_tokens, estimate_completion_tokens, estimate_prompt_tokens
from modelsnest.providers.types import ChatChunk, ChatResult, ProviderConfig, Usage

__all__ = ["DEFAULT_BASE_URLS", "OpenAICompatProvider", "usage_from_openai"]

DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "novita": "https://api.novita.ai/v3/openai",
}


def usage_from_openai(usage: Any) -> Usage | None:
    """``Usage`` from an OpenAI ``usage`` object, or None when it is absent or malformed."""
    if not isinstance(usage, Mapping):
        return None
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens")
    if not isinstance(prompt, int) and not isinstance(completion, int):
        return None
    return Usage(
        prompt_tokens=prompt if isinstance(prompt, int) else 0,
        completion_tokens=completion if isinstance(completion, int) else 0,
    )


def _scan_choices(choices: list[Any]) -> tuple[int, bool]:
    """(local token count of the generated text in one chunk's choices, any finish_reason?)."""
    total = 0
    finished = False
    for choice in choices:
        if choice.get("finish_reason"):
            finished = True
        delta = choice.get("delta")
        if not delta:
            continue
        content = delta.get("content")
        if content and isinstance(content, str):
            total += count_tokens(content)
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning and isinstance(reasoning, str):
            total += count_tokens(reasoning)
        tool_calls = delta.get("tool_calls")
        if tool_calls:
            for call in tool_calls:
                arguments = (call.get("function") or {}).get("arguments")
                if arguments and isinstance(arguments, str):
                    total += count_tokens(arguments)
    return total, finished


_raise_stream_error = raise_error_body


class OpenAICompatProvider(OpenAIMedia, UnsupportedMedia):
    """Chat completions and the OpenAI media endpoints against an OpenAI-compatible base URL
    (no video: ``submit_video``/``poll_video`` raise ``ProviderUnsupported``)."""

    capabilities: ClassVar[frozenset[str]] = frozenset(
        {CHAT, STREAM, EMBEDDINGS, IMAGES, TRANSCRIPTION, SPEECH}
    )

    def __init__(self, config: ProviderConfig) -> None:
        base_url = config.base_url or DEFAULT_BASE_URLS.get(config.kind)
        if not base_url:
            raise ValueError(f"provider {config.name!r} ({config.kind}) needs a base_url")
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._http = UpstreamHTTP(config, headers)
        self._base_url = base_url
        self._chat_url = self._http.url(base_url, "/chat/completions")

    async def chat(self, request: dict[str, Any], upstream_model: str) -> ChatResult:
        body = dict(request)
        body["model"] = upstream_model
        if body.get("stream"):
            body["stream"] = False
        body.pop("stream_options", None)
        answer = await self._http.post_json(self._chat_url, orjson.dumps(body))
        if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
            if isinstance(answer, dict) and "error" in answer:
                _raise_stream_error(answer, self.config.name)
            raise ProviderProtocolError(f"{self.config.name}: answer has no choices")
        usage = usage_from_openai(answer.get("usage"))
        if usage is None:
            usage = Usage(
                prompt_tokens=estimate_prompt_tokens(request.get("messages") or (), request.get("tools")),
                completion_tokens=estimate_completion_tokens(answer),
                reported=False,
            )
        return ChatResult(body=answer, usage=usage, upstream_model=upstream_model)

    async def chat_stream(self, request: dict[str, Any], upstream_model: str) -> AsyncIterator[ChatChunk]:
        body = dict(request)
        body["model"] = upstream_model
        body["stream"] = True
        options = body.get("stream_options")
        body["stream_options"] = (
            {**options, "include_usage": True} if isinstance(options, dict) else {"include_usage": True}
        )
        name = self.config.name
        last: dict[str, Any] | None = None
        finished = False
        usage_seen = False
        delivered = 0
        async with aclosing(self._http.sse(self._chat_url, orjson.dumps(body))) as events:
            async for event in events:
                if not isinstance(event, dict):
                    raise ProviderProtocolError(f"{name}: stream event is not an object")
                if "error" in event and not event.get("choices"):
                    _raise_stream_error(event, name)
                chunk = ChatChunk(event)
                choices = event.get("choices")
                if choices:
                    count, finish = _scan_choices(choices)
                    chunk.completion_tokens_delta = count
                    delivered += count
                    finished = finished or finish
                raw_usage = event.get("usage")
                if raw_usage is not None:
                    chunk.usage = usage_from_openai(raw_usage)
                    usage_seen = usage_seen or chunk.usage is not None
                last = event
                yield chunk
        if not finished and not usage_seen:
            raise ProviderProtocolError(f"{name}: stream ended before the answer finished")
        if not usage_seen:
            usage = Usage(
                prompt_tokens=estimate_prompt_tokens(request.get("messages") or (), request.get("tools")),
                completion_tokens=delivered,
                reported=False,
            )
            last = last or {}
            data = usage_chunk(
                last.get("id", ""), last.get("created", 0), last.get("model", upstream_model), usage
            )
            yield ChatChunk(data, usage=usage)

    async def close(self) -> None:
        await self._http.close()
