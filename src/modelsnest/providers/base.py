"""Small helpers shared by the chat adapters (no I/O here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelsnest.providers.errors import ProviderBadRequest
from modelsnest.providers.types import Usage

__all__ = ["openai_usage", "require_messages", "usage_chunk"]


def require_messages(request: Mapping[str, Any]) -> list[Any]:
    """The request's ``messages``: a non-empty list of objects, else ``ProviderBadRequest``."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ProviderBadRequest("'messages' must be a non-empty array", status=400)
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
            raise ProviderBadRequest(f"messages[{index}] must be an object with a 'role'", status=400)
    return messages


def openai_usage(usage: Usage, *, details: bool = False) -> dict[str, Any]:
    """An OpenAI ``usage`` object. ``prompt_tokens_details`` (``cached_tokens``, and
    ``audio_tokens``/``cache_write_tokens`` when non-zero) is included when ``details`` is set
    or any prompt detail is non-zero; ``completion_tokens_details`` when reasoning or audio
    output tokens are."""
    body: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if details or usage.cached_tokens or usage.cache_write_tokens or usage.audio_input_tokens:
        prompt: dict[str, Any] = {"cached_tokens": usage.cached_tokens}
        if usage.audio_input_tokens:
            prompt["audio_tokens"] = usage.audio_input_tokens
        if usage.cache_write_tokens:
            prompt["cache_write_tokens"] = usage.cache_write_tokens
        body["prompt_tokens_details"] = prompt
    if usage.reasoning_tokens or usage.audio_output_tokens:
        body["completion_tokens_details"] = {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": usage.audio_output_tokens,
        }
    return body


def usage_chunk(
    chunk_id: str, created: int, model: str, usage: Usage, *, details: bool = False
) -> dict[str, Any]:
    """OpenAI's final stream chunk: empty ``choices`` and the whole request's ``usage``."""
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": openai_usage(usage, details=details),
    }
