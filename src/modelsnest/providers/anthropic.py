"""Anthropic Messages API (``POST {base_url}/v1/messages``) behind the OpenAI chat format.

Headers: ``x-api-key``, ``anthropic-version`` (``2023-06-01``; ``extra["anthropic_version"]``
overrides it) and, when set, ``anthropic-beta`` from ``extra["anthropic_beta"]``. Translation
both ways lives in ``anthropic_format``. ``extra["default_max_tokens"]`` (default 4096) is
sent when the request sets no ``max_tokens``, because Anthropic requires one.

Errors: HTTP statuses map as for every upstream (429 → rate limited, 529 ``overloaded_error``
and other 5xx → server error, …) with Anthropic's ``error.message`` as the message; an
``error`` event inside a 200 stream raises the error of its ``error.type``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import Any, ClassVar

import orjson

from modelsnest.providers.anthropic_format import (
    STOP_REASONS,
    error_from_event,
    to_chat_completion,
    to_messages_request,
    usage_from_anthropic,
)
from modelsnest.providers.base import usage_chunk
from modelsnest.providers.errors import ProviderProtocolError
from modelsnest.providers.http import UpstreamHTTP
from modelsnest.providers.kinds import ANTHROPIC
from modelsnest.providers.media_base import UnsupportedMedia
from modelsnest.providers.tokens import count_tokens
from modelsnest.providers.types import ChatChunk, ChatResult, MessagesResult, ProviderConfig, Usage

__all__ = ["ANTHROPIC_VERSION", "AnthropicProvider", "StreamTranslator"]
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096


class StreamTranslator:
    """Turns Anthropic stream events into OpenAI ``chat.completion.chunk`` dicts, one at a time.

    Every chunk has the message's id, one ``created`` and the model; tool_use blocks get OpenAI
    tool-call indexes 0, 1, … in order. ``message_stop`` yields the usage chunk (``choices``
    empty), with ``ChatChunk.usage`` set; ``done`` tells whether it arrived.
    """

    def __init__(self, model: str, created: int) -> None:
        self.id = ""
        self.model = model
        self.created = created
        self.usage = Usage()
        self._raw_usage: dict[str, Any] = {}
        self.done = False
        self._tool_index: dict[int, int] = {}

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None, tokens: int = 0) -> ChatChunk:
        data = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        return ChatChunk(data, completion_tokens_delta=tokens)

    def _usage(self, usage: Any) -> None:
        """Usage is cumulative (``message_start``, then ``message_delta``): each field's last
        value wins, and a field a later event omits keeps its earlier value."""
        if not isinstance(usage, Mapping):
            return
        self._raw_usage.update({key: value for key, value in usage.items() if value is not None})
        self.usage = usage_from_anthropic(self._raw_usage)

    def feed(self, event: Mapping[str, Any]) -> ChatChunk | None:
        """The chunk for one event, or None for events that carry nothing for the client."""
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                text = delta.get("text") or ""
                return self._chunk({"content": text}, tokens=count_tokens(text))
            if dtype == "input_json_delta":
                partial = delta.get("partial_json") or ""
                index = self._tool_index.get(event.get("index", -1))
                if index is None or not partial:
                    return None
                call = {"index": index, "function": {"arguments": partial}}
                return self._chunk({"tool_calls": [call]}, tokens=count_tokens(partial))
            if dtype == "thinking_delta":
                text = delta.get("thinking") or ""
                return self._chunk({"reasoning_content": text}, tokens=count_tokens(text))
            return None
        if kind == "content_block_start":
            block = event.get("content_block") or {}
            if block.get("type") == "tool_use":
                index = self._tool_index[event.get("index", -1)] = len(self._tool_index)
                function = {"name": block.get("name"), "arguments": ""}
                call = {"index": index, "id": block.get("id"), "type": "function", "function": function}
                return self._chunk({"tool_calls": [call]})
            if block.get("type") == "text" and block.get("text"):
                return self._chunk({"content": block["text"]}, tokens=count_tokens(block["text"]))
            return None
        if kind == "message_start":
            message = event.get("message") or {}
            self.id = message.get("id") or self.id
            self.model = message.get("model") or self.model
            self._usage(message.get("usage"))
            return self._chunk({"role": "assistant", "content": ""})
        if kind == "message_delta":
            self._usage(event.get("usage"))
            stop_reason = (event.get("delta") or {}).get("stop_reason")
            return self._chunk({}, STOP_REASONS.get(stop_reason or "end_turn", "stop"))
        if kind == "message_stop":
            self.done = True
            data = usage_chunk(self.id, self.created, self.model, self.usage, details=True)
            return ChatChunk(data, usage=dataclasses.replace(self.usage))
        if kind == "error":
            raise error_from_event(event.get("error"))
        return None  # ping, content_block_stop, and event types added later


class AnthropicProvider(UnsupportedMedia):
    """Chat completions served by Anthropic's Messages API (no media: every media method
    raises ``ProviderUnsupported``)."""

    capabilities: ClassVar[frozenset[str]] = ANTHROPIC.capabilities

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        extra = config.extra
        headers = {"anthropic-version": str(extra.get("anthropic_version", ANTHROPIC_VERSION))}
        if config.api_key:
            headers["x-api-key"] = config.api_key
        if extra.get("anthropic_beta"):
            headers["anthropic-beta"] = str(extra["anthropic_beta"])
        base_url = (config.base_url or ANTHROPIC.default_base_url or "").rstrip("/")
        base_url = base_url.removesuffix("/v1")
        self._http = UpstreamHTTP(config, headers)
        self._messages_url = self._http.url(base_url, "/v1/messages")
        self._default_max_tokens = int(extra.get("default_max_tokens", DEFAULT_MAX_TOKENS))

    def _body(self, request: dict[str, Any], upstream_model: str) -> dict[str, Any]:
        return to_messages_request(request, upstream_model, self._default_max_tokens)

    async def chat(self, request: dict[str, Any], upstream_model: str) -> ChatResult:
        body = self._body(request, upstream_model)
        message = await self._http.post_json(self._messages_url, orjson.dumps(body))
        if not isinstance(message, dict):
            raise ProviderProtocolError(f"{self.config.name}: answer is not an object")
        if message.get("type") == "error":
            raise error_from_event(message.get("error"))
        if not isinstance(message.get("content"), list):
            raise ProviderProtocolError(f"{self.config.name}: answer has no content")
        usage = usage_from_anthropic(message.get("usage"))
        return ChatResult(to_chat_completion(message, int(time.time())), usage, upstream_model)

    async def chat_stream(self, request: dict[str, Any], upstream_model: str) -> AsyncIterator[ChatChunk]:
        body = self._body(request, upstream_model)
        body["stream"] = True
        translator = StreamTranslator(upstream_model, int(time.time()))
        feed = translator.feed
        async with aclosing(self._http.sse(self._messages_url, orjson.dumps(body))) as events:
            async for event in events:
                if not isinstance(event, dict):
                    raise ProviderProtocolError(f"{self.config.name}: stream event is not an object")
                chunk = feed(event)
                if chunk is not None:
                    yield chunk
        if not translator.done:
            raise ProviderProtocolError(f"{self.config.name}: stream ended before message_stop")

    # -- native Messages (``/api/v1/messages`` passes Anthropic's body through) ---------------

    def _native(
        self, request: dict[str, Any], upstream_model: str, beta: tuple[str, ...], stream: bool
    ) -> tuple[bytes, dict[str, str] | None]:
        body = {**request, "model": upstream_model}
        if stream:
            body["stream"] = True
        else:
            body.pop("stream", None)
        configured = self.config.extra.get("anthropic_beta")
        flags = [*(str(configured).split(",") if configured else ()), *beta]
        unique = list(dict.fromkeys(flag.strip() for flag in flags if flag.strip()))
        return orjson.dumps(body), ({"anthropic-beta": ",".join(unique)} if unique else None)

    async def messages(
        self, request: dict[str, Any], upstream_model: str, beta: tuple[str, ...] = ()
    ) -> MessagesResult:
        payload, headers = self._native(request, upstream_model, beta, stream=False)
        message = await self._http.post_json(self._messages_url, payload, headers)
        if not isinstance(message, dict):
            raise ProviderProtocolError(f"{self.config.name}: answer is not an object")
        if message.get("type") == "error":
            raise error_from_event(message.get("error"))
        if not isinstance(message.get("content"), list):
            raise ProviderProtocolError(f"{self.config.name}: answer has no content")
        return MessagesResult(message, usage_from_anthropic(message.get("usage")))

    async def messages_stream(
        self, request: dict[str, Any], upstream_model: str, beta: tuple[str, ...] = ()
    ) -> AsyncIterator[ChatChunk]:
        """Anthropic's events as they came, each with the local count of the text it carries;
        the ``message_delta`` chunk gets the whole request's usage (``message_start``'s merged
        with its own). ``message_stop`` ends the stream and is not yielded."""
        payload, headers = self._native(request, upstream_model, beta, stream=True)
        raw_usage: dict[str, Any] = {}
        async with aclosing(self._http.sse(self._messages_url, payload, headers)) as events:
            async for event in events:
                if not isinstance(event, dict):
                    raise ProviderProtocolError(f"{self.config.name}: stream event is not an object")
                kind = event.get("type")
                if kind == "error":
                    raise error_from_event(event.get("error"))
                if kind == "message_stop":
                    return
                chunk = ChatChunk(event)
                if kind == "message_start":
                    usage = (event.get("message") or {}).get("usage")
                    if isinstance(usage, Mapping):
                        raw_usage.update({k: v for k, v in usage.items() if v is not None})
                elif kind == "message_delta":
                    usage = event.get("usage")
                    if isinstance(usage, Mapping):
                        raw_usage.update({k: v for k, v in usage.items() if v is not None})
                    if raw_usage:  # none reported: the gateway bills its own count of what was sent
                        chunk.usage = usage_from_anthropic(raw_usage)
                elif kind == "content_block_delta":
                    delta = event.get("delta") or {}
                    text = delta.get("text") or delta.get("partial_json") or delta.get("thinking") or ""
                    chunk.completion_tokens_delta = count_tokens(text) if isinstance(text, str) else 0
                yield chunk
        raise ProviderProtocolError(f"{self.config.name}: stream ended before message_stop")

    async def close(self) -> None:
        await self._http.close()
