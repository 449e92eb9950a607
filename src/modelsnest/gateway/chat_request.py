"""Validation of a chat completion request: clear 400s for malformed input, everything else
passed through to the upstream untouched (unknown fields included)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from modelsnest.errors import InvalidRequest
from modelsnest.gateway.preferences import Preferences, take_preferences
from modelsnest.providers.tokens import estimate_prompt_tokens

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
MAX_N = 10


@dataclass(frozen=True)
class ChatRequest:
    body: dict[str, Any]
    model: str
    stream: bool
    include_usage: bool
    n: int
    max_output_tokens: int | None
    prompt_estimate: int  # our count of the prompt's tokens, for the hold
    preferences: Preferences | None = None  # ``models`` / ``provider`` (never sent upstream)


def _positive_int(body: dict[str, Any], name: str, *, maximum: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"{name} must be a positive integer", param=name)
    if maximum is not None and value > maximum:
        raise InvalidRequest(f"{name} must be at most {maximum}", param=name)
    return value


def parse_json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise InvalidRequest("request body is empty: send a JSON object")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    return body


def require_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None or model == "":
        raise InvalidRequest("you must provide a model parameter", code="MISSING_MODEL", param="model")
    if not isinstance(model, str):
        raise InvalidRequest("model must be a string", param="model")
    return model


def parse_chat_request(raw: bytes) -> ChatRequest:
    body = parse_json_object(raw)
    preferences = take_preferences(body)
    model = require_model(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages must be a non-empty array", param="messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequest(f"messages[{index}] must be an object", param=f"messages[{index}]")
        role = message.get("role")
        if not isinstance(role, str) or role not in ROLES:  # a dict or list role is unhashable
            raise InvalidRequest(
                f"messages[{index}].role must be one of {', '.join(sorted(ROLES))}",
                param=f"messages[{index}].role",
            )
    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise InvalidRequest("stream must be a boolean", param="stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise InvalidRequest("stream_options must be an object", param="stream_options")
    include_usage = bool(options and options.get("include_usage") is True)
    n = _positive_int(body, "n", maximum=MAX_N) or 1
    max_completion = _positive_int(body, "max_completion_tokens")
    max_tokens = _positive_int(body, "max_tokens")
    return ChatRequest(
        body=body,
        model=model,
        stream=stream,
        include_usage=include_usage,
        n=n,
        max_output_tokens=max_completion or max_tokens,
        prompt_estimate=estimate_prompt_tokens(messages, body.get("tools")),
        preferences=preferences,
    )
