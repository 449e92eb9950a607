"""Neutral request/response types shared by the gateway and every adapter.

Chat requests and responses are OpenAI's wire format (plain dicts), because that is what
our API speaks: the OpenAI-compatible adapter passes them through and the others translate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol


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
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # False when the upstream reported none and the numbers are our own local count.
    reported: bool = True

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
