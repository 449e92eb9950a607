"""OpenAI chat completions ⇄ Anthropic Messages, both ways (pure functions, no I/O).

Request (``to_messages_request``):

* ``system``/``developer`` messages, wherever they are, are hoisted into the top-level
  ``system`` prompt, joined by newlines (what Anthropic's own OpenAI layer does).
* content: strings and ``text`` parts → text blocks; ``image_url`` parts → image blocks
  (a ``data:`` URL → ``base64`` source, an http(s) URL → ``url`` source); ``file`` parts with a
  PDF data URL → document blocks. Audio input is not supported (``ProviderUnsupported``).
* assistant ``tool_calls`` → ``tool_use`` blocks (``arguments`` JSON parsed into ``input``);
  ``tool`` messages → ``tool_result`` blocks in a user message. Consecutive messages of the
  same role are merged into one (tool results first), as Anthropic requires alternation.
* ``tools[].function`` → ``tools[]{name, description, input_schema}``; ``tool_choice``
  ``auto``/``none``/``required``/named → ``auto``/``none``/``any``/``tool``;
  ``parallel_tool_calls: false`` → ``disable_parallel_tool_use``.
* ``max_completion_tokens``/``max_tokens`` → ``max_tokens`` (required by Anthropic; a default
  when absent); ``stop`` → ``stop_sequences``; ``temperature`` capped at 1; ``top_p``;
  ``user``/``safety_identifier`` → ``metadata.user_id``; Anthropic-only ``top_k`` and
  ``thinking`` pass through. ``n`` > 1 is unsupported; ``logprobs``, ``logit_bias``, ``seed``,
  penalties and ``response_format`` are ignored (as Anthropic's OpenAI layer does).

Response (``to_chat_completion``; streams in ``anthropic.StreamTranslator``): text blocks → content,
``tool_use`` → ``tool_calls``, ``thinking`` → ``reasoning_content``, ``stop_reason`` →
``finish_reason`` (``STOP_REASONS``), usage ``input_tokens`` (+ cache creation + cache reads)
→ ``prompt_tokens``, ``output_tokens`` → ``completion_tokens``, cache reads →
``prompt_tokens_details.cached_tokens`` and cache writes → ``prompt_tokens_details.cache_write_tokens``
(``usage_from_anthropic``; the ``Usage`` carries both, and the 1-hour share of the writes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from modelsnest.providers.base import openai_usage, require_messages
from modelsnest.providers.errors import ProviderBadRequest, ProviderHTTPError, ProviderUnsupported
from modelsnest.providers.http import error_class_for_status
from modelsnest.providers.tokens import message_text
from modelsnest.providers.types import Usage

__all__ = [
    "STOP_REASONS",
    "error_from_event",
    "to_chat_completion",
    "to_messages_request",
    "usage_from_anthropic",
]

STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
_TOOL_CHOICES = {"auto": {"type": "auto"}, "none": {"type": "none"}, "required": {"type": "any"}}
_PASSTHROUGH = ("top_p", "top_k", "thinking")


def _image_block(part: Mapping[str, Any]) -> dict[str, Any]:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, Mapping) else image
    if not isinstance(url, str) or not url:
        raise ProviderBadRequest("image_url part without a url", status=400)
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if not sep or encoding != "base64" or not media_type:
            raise ProviderBadRequest("image data URLs must be data:<media type>;base64,<data>", status=400)
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise ProviderBadRequest("image_url must be an http(s) or data: URL", status=400)


def _file_block(part: Mapping[str, Any]) -> dict[str, Any]:
    file = part.get("file")
    data_url = file.get("file_data") if isinstance(file, Mapping) else None
    if isinstance(data_url, str) and data_url.startswith("data:application/pdf;base64,"):
        data = data_url.partition(",")[2]
        return {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": data},
        }
    raise ProviderUnsupported("Anthropic accepts files only as PDF data URLs", status=400)


def _blocks(content: Any) -> list[dict[str, Any]]:
    """Anthropic content blocks for an OpenAI message content (empty text dropped)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise ProviderBadRequest("message content must be a string or an array of parts", status=400)
    blocks: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind in ("text", "input_text"):
            if not part.get("text"):
                continue
            block: dict[str, Any] = {"type": "text", "text": part["text"]}
        elif kind == "image_url":
            block = _image_block(part)
        elif kind == "file":
            block = _file_block(part)
        else:
            raise ProviderUnsupported(f"content part {kind!r} is not supported by Anthropic", status=400)
        if isinstance(part, Mapping) and "cache_control" in part:
            block["cache_control"] = part["cache_control"]
        blocks.append(block)
    return blocks


def _tool_use(call: Any) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, Mapping) else None
    if not isinstance(function, Mapping) or not function.get("name"):
        raise ProviderBadRequest("assistant tool_calls need function.name", status=400)
    arguments = function.get("arguments") or "{}"
    try:
        parsed = orjson.loads(arguments) if isinstance(arguments, str) else arguments
    except orjson.JSONDecodeError as exc:
        raise ProviderBadRequest("tool call arguments must be a JSON object", status=400) from exc
    if not isinstance(parsed, dict):
        raise ProviderBadRequest("tool call arguments must be a JSON object", status=400)
    return {"type": "tool_use", "id": call.get("id") or "", "name": function["name"], "input": parsed}


def _tool_result(message: Mapping[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.get("tool_call_id") or ""}
    content = message.get("content")
    if isinstance(content, list):
        content = _blocks(content)
    if content:
        block["content"] = content
    return block


def _translate_messages(messages: list[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        content = message.get("content")
        if role in ("system", "developer"):
            text = message_text(content)
            if text:
                system.append(text)
            continue
        if role == "user":
            blocks = _blocks(content)
        elif role == "assistant":
            blocks = _blocks(content)
            blocks.extend(_tool_use(call) for call in message.get("tool_calls") or ())
        elif role == "tool":
            role, blocks = "user", [_tool_result(message)]
        else:
            raise ProviderBadRequest(f"message role {role!r} is not supported", status=400)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    for message in out:
        blocks = message["content"]
        if message["role"] == "user" and len(blocks) > 1:
            blocks.sort(key=lambda block: block["type"] != "tool_result")  # stable: results first
        if len(blocks) == 1 and blocks[0]["type"] == "text" and len(blocks[0]) == 2:
            message["content"] = blocks[0]["text"]
    return system, out


def _tool(tool: Any) -> dict[str, Any]:
    function = tool.get("function") if isinstance(tool, Mapping) else None
    if tool.get("type", "function") != "function" or not isinstance(function, Mapping):
        raise ProviderUnsupported(f"tool type {tool.get('type')!r} is not supported by Anthropic", status=400)
    out: dict[str, Any] = {
        "name": function.get("name"),
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if function.get("description"):
        out["description"] = function["description"]
    return out


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    mapped: dict[str, Any] | None
    if choice is None:
        mapped = {"type": "auto"} if parallel is False else None
    elif isinstance(choice, str):
        if choice not in _TOOL_CHOICES:
            raise ProviderBadRequest(f"tool_choice {choice!r} is not valid", status=400)
        mapped = dict(_TOOL_CHOICES[choice])
    elif isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        mapped = {"type": "tool", "name": choice["function"].get("name")}
    else:
        raise ProviderBadRequest("tool_choice is not valid", status=400)
    if mapped is not None and parallel is False and mapped["type"] != "none":
        mapped["disable_parallel_tool_use"] = True
    return mapped


def to_messages_request(request: Mapping[str, Any], model: str, default_max_tokens: int) -> dict[str, Any]:
    """The Anthropic Messages request for an OpenAI chat completions request."""
    system, messages = _translate_messages(require_messages(request))
    if (request.get("n") or 1) != 1:
        raise ProviderUnsupported("Anthropic returns one choice per request (n must be 1)", status=400)
    max_tokens = request.get("max_completion_tokens") or request.get("max_tokens") or default_max_tokens
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": messages}
    if system:
        body["system"] = "\n".join(system)
    stop = request.get("stop")
    if stop:
        body["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    temperature = request.get("temperature")
    if temperature is not None:
        if not isinstance(temperature, int | float):
            raise ProviderBadRequest("temperature must be a number", status=400)
        body["temperature"] = min(float(temperature), 1.0)
    for key in _PASSTHROUGH:
        if request.get(key) is not None:
            body[key] = request[key]
    user = request.get("safety_identifier") or request.get("user")
    if user:
        body["metadata"] = {"user_id": str(user)}
    tools = request.get("tools")
    if tools:
        body["tools"] = [_tool(tool) for tool in tools]
        choice = _tool_choice(request.get("tool_choice"), request.get("parallel_tool_calls"))
        if choice is not None:
            body["tool_choice"] = choice
    return body


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage_from_anthropic(usage: Any) -> Usage:
    """``Usage`` (OpenAI's convention) from an Anthropic ``usage`` object: its
    ``input_tokens`` excludes cache reads and writes, so they are added to ``prompt_tokens``;
    the 1-hour share of the writes comes from ``cache_creation.ephemeral_1h_input_tokens``."""
    if not isinstance(usage, Mapping):
        return Usage(reported=False)
    cached = _count(usage.get("cache_read_input_tokens"))
    written = _count(usage.get("cache_creation_input_tokens"))
    creation = usage.get("cache_creation")
    hour = _count(creation.get("ephemeral_1h_input_tokens")) if isinstance(creation, Mapping) else 0
    return Usage(
        prompt_tokens=_count(usage.get("input_tokens")) + written + cached,
        completion_tokens=_count(usage.get("output_tokens")),
        cached_tokens=cached,
        cache_write_tokens=written,
        cache_write_1h_tokens=min(hour, written),
    )


def _tool_call(block: Mapping[str, Any]) -> dict[str, Any]:
    arguments = orjson.dumps(block.get("input") or {}).decode()
    return {
        "id": block.get("id"),
        "type": "function",
        "function": {"name": block.get("name"), "arguments": arguments},
    }


def to_chat_completion(message: Mapping[str, Any], created: int) -> dict[str, Any]:
    """The OpenAI ``chat.completion`` for an Anthropic message."""
    texts: list[str] = []
    thinking: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in message.get("content") or ():
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "tool_use":
            tool_calls.append(_tool_call(block))
        elif kind == "thinking":
            thinking.append(block.get("thinking") or "")
    reply: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(texts) if texts or not tool_calls else None,
    }
    if tool_calls:
        reply["tool_calls"] = tool_calls
    if thinking:
        reply["reasoning_content"] = "".join(thinking)
    reply["refusal"] = None
    usage = usage_from_anthropic(message.get("usage"))
    return {
        "id": message.get("id"),
        "object": "chat.completion",
        "created": created,
        "model": message.get("model"),
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": STOP_REASONS.get(message.get("stop_reason") or "end_turn", "stop"),
            }
        ],
        "usage": openai_usage(usage, details=True),
    }


def error_from_event(error: Any) -> ProviderHTTPError:
    """The ``ProviderError`` for an Anthropic error object (an ``error`` event or body)."""
    error = error if isinstance(error, Mapping) else {}
    status = ERROR_TYPE_STATUS.get(str(error.get("type")), 500)
    message = str(error.get("message") or error.get("type") or "upstream error")
    return error_class_for_status(status)(message, status=status, body=orjson.dumps(error).decode())
