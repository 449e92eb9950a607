"""Anthropic Messages ⇄ OpenAI chat completions, for serving ``/api/v1/messages`` from
OpenAI-compatible upstreams (pure functions, no I/O). The opposite direction, serving OpenAI
chat from an Anthropic upstream, is ``providers.anthropic_format``.

Request (``parse_messages_request`` validates, ``to_chat_body`` translates):

* ``system`` (a string or text blocks; ``cache_control`` dropped) → one leading ``system``
  message, the blocks joined by newlines.
* user content: ``text`` → text parts; ``image`` (``base64`` source → a ``data:`` URL, ``url``
  source → its URL) → ``image_url`` parts; ``document`` (PDF ``base64``) → a ``file`` part, a
  ``text`` document → a text part; ``tool_result`` → a ``tool`` message (its text; ``is_error``
  prefixes ``Error:``), placed before the rest of that user turn, as OpenAI wants tool results
  right after the assistant's ``tool_calls``.
* assistant content: ``text`` → ``content``; ``tool_use`` → ``tool_calls`` (``input`` as JSON
  ``arguments``); ``thinking`` → ``reasoning_content`` (its signature is Anthropic's and is
  dropped); ``redacted_thinking`` is dropped.
* ``tools[]{name, description, input_schema}`` → ``tools[].function{name, description,
  parameters}`` (server tools without ``input_schema`` are dropped); ``tool_choice``
  ``auto``/``any``/``tool``/``none`` → ``auto``/``required``/named/``none``, and
  ``disable_parallel_tool_use`` → ``parallel_tool_calls: false``.
* ``max_tokens`` → ``max_tokens``; ``stop_sequences`` → ``stop``; ``temperature``, ``top_p`` as
  they are; ``metadata.user_id`` → ``user``. Anthropic-only fields (``top_k``, ``thinking``,
  ``cache_control``, ``context_management``, …) are not sent: OpenAI rejects unknown ones.

Response (``to_message``; streams in ``messages.AnthropicSurface``): ``reasoning_content``
(or ``reasoning``) → a ``thinking`` block first, ``content`` → a ``text`` block, ``tool_calls``
→ ``tool_use`` blocks; ``finish_reason`` → ``stop_reason`` (``STOP_REASONS``); the ``Usage``
→ Anthropic's usage (``anthropic_usage``: ``input_tokens`` excludes cache reads and writes,
which are ``cache_read_input_tokens`` / ``cache_creation_input_tokens``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from modelsnest.errors import InvalidRequest
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.providers.tokens import estimate_prompt_tokens
from modelsnest.providers.types import Usage

__all__ = [
    "STOP_REASONS",
    "MessagesRequest",
    "anthropic_usage",
    "parse_messages_request",
    "to_chat_body",
    "to_message",
]

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
_USER_BLOCKS = frozenset({"text", "image", "document", "tool_result", "search_result"})
_ASSISTANT_BLOCKS = frozenset({"text", "tool_use", "thinking", "redacted_thinking", "server_tool_use"})
_TOOL_CHOICES = frozenset({"auto", "any", "tool", "none"})


@dataclass(frozen=True)
class MessagesRequest:
    """A validated Messages request: Anthropic's body as it came (for an Anthropic upstream)
    and its OpenAI chat translation (for every other upstream)."""

    body: dict[str, Any]
    model: str
    stream: bool
    max_tokens: int
    chat_body: dict[str, Any]
    prompt_estimate: int
    beta: tuple[str, ...] = field(default_factory=tuple)


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param)


def _system_text(system: Any) -> str:
    if system is None:
        return ""
    if isinstance(system, str):
        return system
    if not isinstance(system, list):
        raise _bad("system must be a string or an array of text blocks", "system")
    texts = []
    for index, block in enumerate(system):
        if (
            not isinstance(block, dict)
            or block.get("type") != "text"
            or not isinstance(block.get("text"), str)
        ):
            raise _bad(f"system.{index}: must be a text block", f"system.{index}")
        texts.append(block["text"])
    return "\n".join(texts)


def _image_part(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict):
        raise _bad(f"{where}.source: Field required", f"{where}.source")
    kind = source.get("type")
    if kind == "base64":
        media_type, data = source.get("media_type"), source.get("data")
        if not isinstance(media_type, str) or not isinstance(data, str) or not data:
            raise _bad(f"{where}.source: base64 images need media_type and data", f"{where}.source")
        return {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{data}"}}
    if kind == "url" and isinstance(source.get("url"), str):
        return {"type": "image_url", "image_url": {"url": source["url"]}}
    raise _bad(f"{where}.source: must be a base64 or url source", f"{where}.source")


def _document_part(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    source = source if isinstance(source, dict) else {}
    if source.get("type") == "text" and isinstance(source.get("data"), str):
        return {"type": "text", "text": source["data"]}
    if source.get("type") == "base64" and isinstance(source.get("data"), str):
        media_type = source.get("media_type") or "application/pdf"
        data_url = f"data:{media_type};base64,{source['data']}"
        return {"type": "file", "file": {"filename": "document.pdf", "file_data": data_url}}
    raise _bad(f"{where}.source: documents must have a text or base64 source", f"{where}.source")


def _result_text(content: Any, where: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _bad(f"{where}.content: must be a string or an array of blocks", f"{where}.content")
    texts = []
    for block in content:
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif isinstance(block, dict) and block.get("type") == "image":
            texts.append("[image]")
    return "\n".join(texts)


def _blocks(message: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise _bad(f"{where}.content: must be a string or an array of content blocks", f"{where}.content")
    allowed = _USER_BLOCKS if message.get("role") == "user" else _ASSISTANT_BLOCKS
    for index, block in enumerate(content):
        if (
            not isinstance(block, dict)
            or not isinstance(block.get("type"), str)
            or block["type"] not in allowed
        ):
            kind = block.get("type") if isinstance(block, dict) else block
            raise _bad(
                f"{where}.content.{index}: {kind!r} blocks are not valid in a {message.get('role')} message",
                f"{where}.content.{index}",
            )
    return content


def _user_messages(blocks: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for index, block in enumerate(blocks):
        at = f"{where}.content.{index}"
        kind = block["type"]
        if kind == "text":
            if not isinstance(block.get("text"), str):
                raise _bad(f"{at}.text: Field required", f"{at}.text")
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            parts.append(_image_part(block, at))
        elif kind == "document":
            parts.append(_document_part(block, at))
        elif kind == "search_result":
            parts.append({"type": "text", "text": _result_text(block.get("content"), at)})
        else:  # tool_result
            call_id = block.get("tool_use_id")
            if not isinstance(call_id, str) or not call_id:
                raise _bad(f"{at}.tool_use_id: Field required", f"{at}.tool_use_id")
            text = _result_text(block.get("content"), at)
            if block.get("is_error"):
                text = f"Error: {text}"
            tools.append({"role": "tool", "tool_call_id": call_id, "content": text})
    out = list(tools)
    if parts:
        only_text = all(part["type"] == "text" for part in parts)
        content: Any = "\n".join(p["text"] for p in parts) if only_text and len(parts) == 1 else parts
        out.append({"role": "user", "content": content})
    return out


def _assistant_message(blocks: list[dict[str, Any]], where: str) -> dict[str, Any]:
    texts: list[str] = []
    thinking: list[str] = []
    calls: list[dict[str, Any]] = []
    for index, block in enumerate(blocks):
        at = f"{where}.content.{index}"
        kind = block["type"]
        if kind == "text":
            texts.append(str(block.get("text") or ""))
        elif kind == "thinking":
            thinking.append(str(block.get("thinking") or ""))
        elif kind in ("tool_use", "server_tool_use"):
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                raise _bad(f"{at}: tool_use blocks need an id and a name", at)
            arguments = orjson.dumps(block.get("input") or {}).decode()
            calls.append(
                {
                    "id": block["id"],
                    "type": "function",
                    "function": {"name": block["name"], "arguments": arguments},
                }
            )
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        message["tool_calls"] = calls
    if thinking:
        message["reasoning_content"] = "".join(thinking)
    return message


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise _bad("tools must be an array", "tools")
    out = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise _bad(f"tools.{index}.name: Field required", f"tools.{index}.name")
        schema = tool.get("input_schema")
        if schema is None and tool.get("type") not in (None, "custom"):
            continue  # a server tool (web search, bash, …): an OpenAI upstream has no such thing
        if not isinstance(schema, dict):
            raise _bad(f"tools.{index}.input_schema: Field required", f"tools.{index}.input_schema")
        function: dict[str, Any] = {"name": tool["name"], "parameters": schema}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: Any) -> tuple[Any, bool]:
    """(OpenAI ``tool_choice``, parallel tool calls allowed)."""
    if (
        not isinstance(choice, dict)
        or not isinstance(choice.get("type"), str)
        or choice["type"] not in _TOOL_CHOICES
    ):
        raise _bad("tool_choice.type must be one of auto, any, tool, none", "tool_choice")
    parallel = not choice.get("disable_parallel_tool_use")
    kind = choice["type"]
    if kind == "tool":
        if not isinstance(choice.get("name"), str):
            raise _bad("tool_choice.name: Field required", "tool_choice.name")
        return {"type": "function", "function": {"name": choice["name"]}}, parallel
    return {"auto": "auto", "any": "required", "none": "none"}[kind], parallel


def to_chat_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAI chat completions body of a (validated) Messages body."""
    messages: list[dict[str, Any]] = []
    system = _system_text(body.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    for index, message in enumerate(body["messages"]):
        where = f"messages.{index}"
        blocks = _blocks(message, where)
        if message["role"] == "user":
            messages.extend(_user_messages(blocks, where))
        else:
            messages.append(_assistant_message(blocks, where))
    chat: dict[str, Any] = {"model": body["model"], "messages": messages, "max_tokens": body["max_tokens"]}
    tools = _tools(body["tools"]) if body.get("tools") is not None else []
    if tools:
        chat["tools"] = tools
    if body.get("tool_choice") is not None:
        choice, parallel = _tool_choice(body["tool_choice"])
        if tools:
            chat["tool_choice"] = choice
            if not parallel:
                chat["parallel_tool_calls"] = False
    stops = body.get("stop_sequences")
    if stops:
        chat["stop"] = list(stops)
    for name in ("temperature", "top_p"):  # top_k: OpenAI itself rejects it
        if body.get(name) is not None:
            chat[name] = body[name]
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        chat["user"] = metadata["user_id"]
    return chat


def _number(body: Mapping[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _bad(f"{name}: must be a number between {low:g} and {high:g}", name)


def parse_messages_request(raw: bytes, beta: str | None = None, *, counting: bool = False) -> MessagesRequest:
    """Validate a Messages body (clear 400s for what Anthropic would reject) and translate it.
    ``counting``: a ``count_tokens`` body, which has no ``max_tokens``."""
    body = parse_json_object(raw)
    model = require_model(body)
    max_tokens = body.get("max_tokens")
    if max_tokens is None and counting:
        max_tokens = body["max_tokens"] = 1
    if max_tokens is None:
        raise _bad("max_tokens: Field required", "max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise _bad("max_tokens: must be a positive integer", "max_tokens")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _bad("messages: at least one message is required", "messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise _bad(
                f'messages.{index}.role: Input should be "user" or "assistant"', f"messages.{index}.role"
            )
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad("stream: must be a boolean", "stream")
    stops = body.get("stop_sequences")
    if stops is not None and (not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)):
        raise _bad("stop_sequences: must be an array of strings", "stop_sequences")
    _number(body, "temperature", 0, 1)
    _number(body, "top_p", 0, 1)
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _bad("metadata: must be an object", "metadata")
    chat = to_chat_body(body)
    flags = tuple(flag.strip() for flag in (beta or "").split(",") if flag.strip())
    return MessagesRequest(
        body=body,
        model=model,
        stream=bool(stream),
        max_tokens=max_tokens,
        chat_body=chat,
        prompt_estimate=estimate_prompt_tokens(chat["messages"], chat.get("tools")),
        beta=flags,
    )


def anthropic_usage(usage: Usage) -> dict[str, Any]:
    """Anthropic's ``usage`` of a ``Usage``: ``input_tokens`` excludes cache reads and writes."""
    cache_read = usage.cached_tokens
    cache_write = usage.cache_write_tokens
    body: dict[str, Any] = {
        "input_tokens": max(usage.prompt_tokens - cache_read - cache_write, 0),
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": usage.completion_tokens,
    }
    if cache_write:
        body["cache_creation"] = {
            "ephemeral_5m_input_tokens": cache_write - usage.cache_write_1h_tokens,
            "ephemeral_1h_input_tokens": usage.cache_write_1h_tokens,
        }
    return body


def message_id(upstream_id: Any, request_id: str) -> str:
    if isinstance(upstream_id, str) and upstream_id.startswith("msg_"):
        return upstream_id
    return "msg_" + (request_id.replace("-", "") or "modelsnest")


def tool_input(arguments: Any) -> Any:
    """A tool call's ``arguments`` (JSON text) as the object Anthropic's ``input`` is."""
    if isinstance(arguments, dict):
        return arguments
    if not isinstance(arguments, str) or not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {"_raw_arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


def to_message(completion: Mapping[str, Any], model: str, usage: Usage, request_id: str) -> dict[str, Any]:
    """The Anthropic ``message`` for an OpenAI ``chat.completion`` (its first choice)."""
    choices = completion.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], Mapping) else {}
    found = choice.get("message")
    reply: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    content: list[dict[str, Any]] = []
    reasoning = reply.get("reasoning_content") or reply.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        content.append({"type": "thinking", "thinking": reasoning, "signature": ""})
    text = reply.get("content")
    if isinstance(text, list):
        text = "".join(p.get("text", "") for p in text if isinstance(p, Mapping))
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    for call in reply.get("tool_calls") or ():
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{len(content)}",
                "name": function.get("name") or "",
                "input": tool_input(function.get("arguments")),
            }
        )
    finish = choice.get("finish_reason")
    stop_reason = STOP_REASONS.get(str(finish), "end_turn")
    if reply.get("tool_calls") and stop_reason == "end_turn":
        stop_reason = "tool_use"
    return {
        "id": message_id(completion.get("id"), request_id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": anthropic_usage(usage),
    }
