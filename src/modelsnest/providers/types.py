"""Neutral request/response types shared by the gateway and every adapter.

Chat requests and responses are OpenAI's wire format (plain dicts), because that is what
our API speaks: the OpenAI-compatible adapter passes them through and the others translate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ProviderConfig:
    """Everything an adapter needs, passed in: adapters never read settings or the database."""

    name: str
    kind: str
    base_url: str | None = None
    api_key: str | None = None
    connect_timeout: float = 5.0
    first_byte_timeout: float = 60.0
    total_timeout: float = 600.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Usage:
    """What one request consumed, in OpenAI's convention whatever the upstream's:

    * ``prompt_tokens`` counts every input token: plain ones, cache reads (``cached_tokens``),
      cache writes (``cache_write_tokens``, of which ``cache_write_1h_tokens`` at the 1-hour
      TTL) and audio (``audio_input_tokens``); the details are parts of it, never additions.
    * ``completion_tokens`` counts every output token, ``reasoning_tokens`` and
      ``audio_output_tokens`` included.

    OpenAI reports exactly this (``prompt_tokens_details``, ``completion_tokens_details``).
    Anthropic's ``input_tokens`` *excludes* cache reads and writes: its adapter adds
    ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` to make ``prompt_tokens``.
    Billing (``catalog.pricing.bill``) subtracts the details back out to price each part.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    # False when the upstream reported none and the numbers are our own local count.
    reported: bool = True
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class ChatResult:
    """A finished, non-streamed completion: OpenAI ``chat.completion`` body + its usage."""

    body: dict[str, Any]
    usage: Usage
    upstream_model: str


@dataclass
class ChatChunk:
    """One streamed event, as an OpenAI ``chat.completion.chunk`` dict.

    ``usage`` is set on the chunk that carries the upstream's usage (OpenAI's final chunk with
    empty ``choices``); ``completion_tokens_delta`` is the adapter's count of the tokens of
    text in this chunk, used to bill what was delivered when a stream ends early.
    """

    data: dict[str, Any]
    usage: Usage | None = None
    completion_tokens_delta: int = 0


class ChatProvider(Protocol):
    config: ProviderConfig

    async def chat(self, request: dict[str, Any], upstream_model: str) -> ChatResult: ...

    def chat_stream(self, request: dict[str, Any], upstream_model: str) -> AsyncIterator[ChatChunk]:
        """An async generator of chunks. Raises ``ProviderError`` before the first chunk when
        the upstream cannot start; closing the generator (``aclose``) cancels the upstream.

        Every adapter ends a stream that completes normally with a usage chunk (``choices``
        empty, ``ChatChunk.usage`` set; ``Usage.reported`` False when counted locally), whether
        or not the client asked for ``stream_options.include_usage``: the caller drops it
        before the client when the client did not ask. A stream that breaks raises a
        ``ProviderError`` mid-way; the chunks' ``completion_tokens_delta`` then tell what was
        delivered."""
        ...

    async def close(self) -> None: ...


@dataclass
class MessagesResult:
    """A finished Anthropic Messages answer: the ``message`` body + its usage."""

    message: dict[str, Any]
    usage: Usage


@runtime_checkable
class MessagesProvider(Protocol):
    """An adapter that speaks Anthropic Messages natively (the ``anthropic`` kind): the
    gateway's ``/messages`` passes the body through instead of translating it to chat.
    ``beta`` are the client's ``anthropic-beta`` flags, sent on as they came."""

    async def messages(
        self, request: dict[str, Any], upstream_model: str, beta: tuple[str, ...] = ()
    ) -> MessagesResult: ...

    def messages_stream(
        self, request: dict[str, Any], upstream_model: str, beta: tuple[str, ...] = ()
    ) -> AsyncIterator[ChatChunk]:
        """Anthropic's stream events as ``ChatChunk``s (``data`` is the event). The
        ``message_delta`` chunk carries the whole request's ``usage``; ``message_stop`` is
        not yielded (the caller ends the stream itself, after billing)."""
        ...


@dataclass
class ResponsesResult:
    """A finished OpenAI Responses answer: the upstream's ``response`` body + its usage
    (``reported`` False and zero when the upstream sent none)."""

    body: dict[str, Any]
    usage: Usage


@runtime_checkable
class ResponsesProvider(Protocol):
    """An adapter that can speak OpenAI's Responses API natively (``POST {base}/responses``).
    ``speaks_responses`` says whether this provider's upstream does (see ``openai_compat``):
    when it does, the gateway's ``/responses`` passes the body through instead of
    translating it to chat completions."""

    speaks_responses: bool

    async def responses(self, request: dict[str, Any], upstream_model: str) -> ResponsesResult: ...

    def responses_stream(self, request: dict[str, Any], upstream_model: str) -> AsyncIterator[ChatChunk]:
        """The upstream's typed events as ``ChatChunk``s (``data`` is the event), each with
        the local count of the text it carries; the terminal ``response.completed`` /
        ``response.incomplete`` chunk carries ``usage`` and ends the stream."""
        ...
