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

Responses API (``POST {base_url}/responses``, ``responses``/``responses_stream``): used by the
gateway's ``/responses`` instead of the chat translation when ``speaks_responses``. The kind
``openai`` is also every OpenAI-compatible API, most of which have no ``/responses``, so it is
decided per provider: the provider's ``extra`` flag ``responses_api`` (true/false) when set,
else true only for the real OpenAI API (base URL host ``api.openai.com``). The body is sent as
given (the gateway removes its own fields); only ``model`` and ``stream`` are set here.
Usage is read from the Responses ``usage`` (``input_tokens`` with
``input_tokens_details.cached_tokens``, ``output_tokens`` with
``output_tokens_details.reasoning_tokens``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson

from modelsnest.providers.base import usage_chunk
from modelsnest.providers.errors import ProviderProtocolError
from modelsnest.providers.http import UpstreamHTTP
from modelsnest.providers.kinds import OPENAI, builtin_kind
from modelsnest.providers.media_base import UnsupportedMedia
from modelsnest.providers.openai_media import OpenAIMedia, raise_error_body
from modelsnest.providers.tokens import count_tokens, estimate_completion_tokens, estimate_prompt_tokens
from modelsnest.providers.types import ChatChunk, ChatResult, ProviderConfig, ResponsesResult, Usage

__all__ = ["OpenAICompatProvider", "speaks_responses", "usage_from_openai", "usage_from_responses"]

OPENAI_API_HOST = "api.openai.com"
# Typed stream events whose ``delta`` is generated text (counted for a cut stream's bill).
_TEXT_DELTAS = frozenset(
    {
        "response.output_text.delta",
        "response.refusal.delta",
        "response.reasoning_text.delta",
        "response.reasoning_summary_text.delta",
        "response.function_call_arguments.delta",
        "response.custom_tool_call_input.delta",
    }
)
_TERMINAL = frozenset({"response.completed", "response.incomplete"})


def speaks_responses(config: ProviderConfig, base_url: str) -> bool:
    """Whether this provider's upstream serves OpenAI's Responses API (see the module doc)."""
    if config.kind != OPENAI.name:
        return False
    flag = config.extra.get("responses_api")
    if isinstance(flag, bool):
        return flag
    if isinstance(flag, str) and flag.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return flag.strip().lower() in ("true", "1", "yes")
    return (urlsplit(base_url).hostname or "").lower() == OPENAI_API_HOST


def usage_from_responses(usage: Any) -> Usage | None:
    """``Usage`` from a Responses ``usage`` object, or None when it is absent or malformed."""
    if not isinstance(usage, Mapping):
        return None
    prompt = usage.get("input_tokens")
    completion = usage.get("output_tokens")
    if not isinstance(prompt, int) and not isinstance(completion, int):
        return None
    input_details = usage.get("input_tokens_details")
    input_details = input_details if isinstance(input_details, Mapping) else {}
    output_details = usage.get("output_tokens_details")
    output_details = output_details if isinstance(output_details, Mapping) else {}
    return Usage(
        prompt_tokens=_count(prompt),
        completion_tokens=_count(completion),
        cached_tokens=_count(input_details.get("cached_tokens")),
        reasoning_tokens=_count(output_details.get("reasoning_tokens")),
    )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage_from_openai(usage: Any) -> Usage | None:
    """``Usage`` from an OpenAI ``usage`` object, or None when it is absent or malformed.

    Details: ``prompt_tokens_details.cached_tokens``/``audio_tokens``,
    ``completion_tokens_details.reasoning_tokens``/``audio_tokens`` (OpenAI); DeepSeek's
    ``prompt_cache_hit_tokens``; cache writes as ``prompt_tokens_details.cache_write_tokens``
    (OpenRouter) or top-level ``cache_creation_input_tokens`` (proxies passing Anthropic's
    fields through). All are parts of ``prompt_tokens``/``completion_tokens`` here, as in
    OpenAI's own usage."""
    if not isinstance(usage, Mapping):
        return None
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens")
    if not isinstance(prompt, int) and not isinstance(completion, int):
        return None
    prompt_details = usage.get("prompt_tokens_details")
    prompt_details = prompt_details if isinstance(prompt_details, Mapping) else {}
    completion_details = usage.get("completion_tokens_details")
    completion_details = completion_details if isinstance(completion_details, Mapping) else {}
    return Usage(
        prompt_tokens=_count(prompt),
        completion_tokens=_count(completion),
        cached_tokens=_count(prompt_details.get("cached_tokens"))
        or _count(usage.get("prompt_cache_hit_tokens")),
        cache_write_tokens=_count(prompt_details.get("cache_write_tokens"))
        or _count(usage.get("cache_creation_input_tokens")),
        audio_input_tokens=_count(prompt_details.get("audio_tokens")),
        reasoning_tokens=_count(completion_details.get("reasoning_tokens")),
        audio_output_tokens=_count(completion_details.get("audio_tokens")),
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

    capabilities: ClassVar[frozenset[str]] = OPENAI.capabilities

    def __init__(self, config: ProviderConfig) -> None:
        # The registry fills in a kind's default base URL; this covers direct construction.
        builtin = builtin_kind(config.kind)
        base_url = config.base_url or (builtin.default_base_url if builtin else None)
        if not base_url:
            raise ValueError(f"provider {config.name!r} ({config.kind}) needs a base_url")
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._http = UpstreamHTTP(config, headers)
        self._base_url = base_url
        self._chat_url = self._http.url(base_url, "/chat/completions")
        self._responses_url = self._http.url(base_url, "/responses")
        self.speaks_responses = speaks_responses(config, base_url)

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

    # -- native Responses API -----------------------------------------------------------------

    async def responses(self, request: dict[str, Any], upstream_model: str) -> ResponsesResult:
        body = {**request, "model": upstream_model}
        body.pop("stream", None)
        body.pop("stream_options", None)
        answer = await self._http.post_json(self._responses_url, orjson.dumps(body))
        if not isinstance(answer, dict) or not isinstance(answer.get("output"), list):
            if isinstance(answer, dict) and isinstance(answer.get("error"), Mapping):
                _raise_stream_error(answer, self.config.name)
            raise ProviderProtocolError(f"{self.config.name}: answer has no output")
        usage = usage_from_responses(answer.get("usage")) or Usage(reported=False)
        return ResponsesResult(answer, usage)

    async def responses_stream(
        self, request: dict[str, Any], upstream_model: str
    ) -> AsyncIterator[ChatChunk]:
        body = {**request, "model": upstream_model, "stream": True}
        name = self.config.name
        async with aclosing(self._http.sse(self._responses_url, orjson.dumps(body))) as events:
            async for event in events:
                if not isinstance(event, dict):
                    raise ProviderProtocolError(f"{name}: stream event is not an object")
                kind = event.get("type")
                if kind == "error":
                    _raise_stream_error({"error": {k: v for k, v in event.items() if k != "type"}}, name)
                if kind == "response.failed":
                    response = event.get("response") or {}
                    error = response.get("error") if isinstance(response, dict) else None
                    _raise_stream_error({"error": error if isinstance(error, Mapping) else {}}, name)
                chunk = ChatChunk(event)
                if kind in _TEXT_DELTAS:
                    delta = event.get("delta")
                    chunk.completion_tokens_delta = count_tokens(delta) if isinstance(delta, str) else 0
                if kind in _TERMINAL:
                    response = event.get("response")
                    usage = usage_from_responses(
                        response.get("usage") if isinstance(response, dict) else None
                    )
                    chunk.usage = usage  # none: the gateway bills its own count of what was sent
                    yield chunk
                    return
                yield chunk
        raise ProviderProtocolError(f"{name}: stream ended before response.completed")

    async def close(self) -> None:
        await self._http.close()
