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


def openai_usage(usage: Usage, cached_tokens: int | None = None) -> dict[str, Any]:
    """An OpenAI ``usage`` object."""
    body: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if cached_tokens is not None:
        body["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    return body


def usage_chunk(
    chunk_id: str, created: int, model: str, usage: Usage, cached_tokens: int | None = None
) -> dict[str, Any]:
    """OpenAI's final stream chunk: empty ``choices`` and the whole request's ``usage``."""
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": openai_usage(usage, cached_tokens),
    }
