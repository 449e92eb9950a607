"""ElevenLabs (text-to-speech). Chat is not among its capabilities: the chat methods raise
``ProviderUnsupported`` (retryable, so a router moves on). Speech arrives with the TTS adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from modelsnest.providers.errors import ProviderUnsupported
from modelsnest.providers.types import ChatChunk, ChatResult, ProviderConfig

__all__ = ["ElevenLabsProvider"]


class ElevenLabsProvider:
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config

    def _unsupported(self) -> ProviderUnsupported:
        return ProviderUnsupported(f"{self.config.name}: ElevenLabs does not serve chat completions")

    async def chat(self, request: dict[str, Any], upstream_model: str) -> ChatResult:
        raise self._unsupported()

    async def chat_stream(self, request: dict[str, Any], upstream_model: str) -> AsyncIterator[ChatChunk]:
        nothing: tuple[ChatChunk, ...] = ()
        for chunk in nothing:  # an async generator, like the others, that fails on first use
            yield chunk
        raise self._unsupported()

    async def close(self) -> None:
        return None
