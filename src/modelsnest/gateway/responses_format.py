"""OpenAI's Responses API translated to and from chat completions (what every adapter speaks).

Request (``POST /responses``) → chat body:

* ``instructions`` → a leading ``system`` message (never carried to the next turn);
* ``input`` a string → one ``user`` message; items → messages: ``message`` items with
  ``input_text``/``output_text`` parts (text) and ``input_image`` parts (``image_url``),
  ``function_call`` items → the assistant's ``tool_calls`` (consecutive calls join one
  assistant message), ``function_call_output`` → a ``tool`` message; ``reasoning`` items are
  dropped (chat upstreams take no reasoning input);
* ``tools`` of type ``function`` → chat function tools (hosted tools an upstream behind chat
  completions cannot run, such as ``web_search``, are left out); ``tool_choice`` likewise;
* ``max_output_tokens`` → ``max_tokens``, ``reasoning.effort`` → ``reasoning_effort``,
  ``text.format`` → ``response_format``; ``temperature``, ``top_p``, ``parallel_tool_calls``,
  ``user`` as they are.

Answer: the chat message becomes a ``reasoning`` item (when the upstream returned its reasoning
text, non-streamed answers only), a ``message`` output item (one ``output_text`` part) and one
``function_call`` item per tool call; ``usage`` is ``input_tokens`` (with
``input_tokens_details.cached_tokens``), ``output_tokens`` (with
``output_tokens_details.reasoning_tokens``). Shapes are those of the ``openai`` SDK's
``types/responses``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelsnest.errors import InvalidRequest
from modelsnest.gateway.chat_request import parse_json_object, require_model
from modelsnest.gateway.preferences import Preferences, take_preferences
from modelsnest.providers.types import Usage

EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
TOOL_CHOICES = frozenset({"auto", "none", "required"})


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


@dataclass
class ResponsesRequest:
    body: dict[str, Any]  # the client's Responses request, as sent
    model: str
    stream: bool
    store: bool
    previous_response_id: str | None
    input_messages: list[dict[str, Any]]  # this turn's input, as chat messages
    instructions: str | None
    chat_params: dict[str, Any]  # every chat field but ``messages``
    max_output_tokens: int | None
    history: list[dict[str, Any]] = field(default_factory=list)  # from previous_response_id
    prompt_estimate: int = 0  # our count of the whole prompt, set with the history
    preferences: Preferences | None = None  # ``models`` / ``provider``

    @property
    def conversation(self) -> list[dict[str, Any]]:
        """The history this turn continues plus its own input (no instructions)."""
        return [*self.history, *self.input_messages]

    def chat_body(self) -> dict[str, Any]:
        system = [{"role": "system", "content": self.instructions}] if self.instructions else []
        return {**self.chat_params, "messages": [*system, *self.conversation]}


def _bad(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(message, param=param)


def _string(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"{param} must be a string", param)
    return value


def _content_parts(content: Any, param: str) -> str | list[dict[str, Any]]:
    """A message's content as chat content: a string, or parts (text and images)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _bad(f"{param} must be a string or an array of content parts", param)
    parts: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        where = f"{param}[{index}]"
        if not isinstance(part, dict):
            raise _bad(f"{where} must be an object", where)
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text", "summary_text", "refusal"):
            text = part.get("text", part.get("refusal"))
            parts.append({"type": "text", "text": _string(text, f"{where}.text")})
        elif kind == "input_image":
            url = part.get("image_url")
            if not isinstance(url, str) or not url:
                raise _bad(
                    f"{where}.image_url must be a URL or a data: URL (file_id is not supported)", where
                )
            image: dict[str, Any] = {"url": url}
            if isinstance(part.get("detail"), str):
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        else:
            raise _bad(
                f"{where}.type {kind!r} is not supported (input_text, output_text, input_image)", where
            )
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _output_text(output: Any, param: str) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        content = _content_parts(output, param)
        return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
    raise _bad(f"{param} must be a string or an array of content parts", param)


def input_messages(value: Any) -> list[dict[str, Any]]:
    """``input`` (a string or items) as chat messages."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        raise _bad("input must be a string or an array of input items", "input")
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise _bad(f"{where} must be an object", where)
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise _bad(f"{where}.role must be one of assistant, developer, system, user", f"{where}.role")
            content = _content_parts(item.get("content"), f"{where}.content")
            if role == "assistant" and not isinstance(content, str):
                content = "".join(p.get("text", "") for p in content)
            messages.append({"role": role, "content": content})
        elif kind == "function_call":
            call_id = _string(item.get("call_id"), f"{where}.call_id")
            name = _string(item.get("name"), f"{where}.name")
            arguments = _string(item.get("arguments", ""), f"{where}.arguments")
            call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
                if last.get("content") == "":
                    last["content"] = None
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            call_id = _string(item.get("call_id"), f"{where}.call_id")
            output = _output_text(item.get("output"), f"{where}.output")
            messages.append({"role": "tool", "tool_call_id": call_id, "content": output})
        elif kind == "reasoning":
            continue
        else:
            raise _bad(
                f"{where}.type {kind!r} is not supported (message, function_call, function_call_output, reasoning)",
                f"{where}.type",
            )
    if not messages:
        raise _bad("input must contain at least one message", "input")
    return messages


def _chat_tools(value: Any) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _bad("tools must be an array", "tools")
    tools: list[dict[str, Any]] = []
    for index, tool in enumerate(value):
        where = f"tools[{index}]"
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise _bad(f"{where} must be an object with a type", where)
        if tool["type"] != "function":
            continue  # hosted tools cannot run behind a chat upstream
        function: dict[str, Any] = {"name": _string(tool.get("name"), f"{where}.name")}
        if tool.get("description") is not None:
            function["description"] = _string(tool["description"], f"{where}.description")
        parameters = tool.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise _bad(f"{where}.parameters must be a JSON Schema object", f"{where}.parameters")
        function["parameters"] = parameters or {"type": "object", "properties": {}}
        if isinstance(tool.get("strict"), bool):
            function["strict"] = tool["strict"]
        tools.append({"type": "function", "function": function})
    return tools


def _chat_tool_choice(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in TOOL_CHOICES:
            raise _bad("tool_choice must be auto, none, required or a function", "tool_choice")
        return value
    if isinstance(value, dict) and value.get("type") == "function":
        return {"type": "function", "function": {"name": _string(value.get("name"), "tool_choice.name")}}
    if isinstance(value, dict) and value.get("type") == "allowed_tools":
        return value.get("mode", "auto")
    raise _bad("tool_choice must be auto, none, required or {type: function, name}", "tool_choice")


def _response_format(text: Any) -> dict[str, Any] | None:
    if text is None:
        return None
    if not isinstance(text, dict):
        raise _bad("text must be an object", "text")
    fmt = text.get("format")
    if fmt is None:
        return None
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        raise _bad("text.format.type must be text, json_object or json_schema", "text.format")
    if fmt["type"] == "text":
        return None
    if fmt["type"] == "json_object":
        return {"type": "json_object"}
    schema = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
    return {"type": "json_schema", "json_schema": schema}


def _number(body: Mapping[str, Any], name: str, low: float, high: float) -> float | int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _bad(f"{name} must be a number between {low:g} and {high:g}", name)
    return value


def parse_responses_request(raw: bytes) -> ResponsesRequest:
    body = parse_json_object(raw)
    preferences = take_preferences(body)
    model = require_model(body)
    if "input" not in body:
        raise _bad("input is required: a string or an array of input items", "input")
    messages = input_messages(body["input"])
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _bad("instructions must be a string", "instructions")
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise _bad("stream must be a boolean", "stream")
    store = body.get("store", True)
    store = True if store is None else store
    if not isinstance(store, bool):
        raise _bad("store must be a boolean", "store")
    previous = body.get("previous_response_id")
    if previous is not None and (not isinstance(previous, str) or not previous):
        raise _bad("previous_response_id must be a response id", "previous_response_id")
    max_output = body.get("max_output_tokens")
    if max_output is not None and (
        isinstance(max_output, bool) or not isinstance(max_output, int) or max_output < 1
    ):
        raise _bad("max_output_tokens must be a positive integer", "max_output_tokens")
    params: dict[str, Any] = {"model": model}
    for name, low, high in (("temperature", 0, 2), ("top_p", 0, 1)):
        number = _number(body, name, low, high)
        if number is not None:
            params[name] = number
    if max_output is not None:
        params["max_tokens"] = max_output
    tools = _chat_tools(body.get("tools"))
    if tools:
        params["tools"] = tools
        choice = _chat_tool_choice(body.get("tool_choice"))
        if choice is not None:
            params["tool_choice"] = choice
        if isinstance(body.get("parallel_tool_calls"), bool):
            params["parallel_tool_calls"] = body["parallel_tool_calls"]
    else:
        _chat_tool_choice(body.get("tool_choice"))
    reasoning = body.get("reasoning")
    if reasoning is not None:
        if not isinstance(reasoning, dict):
            raise _bad("reasoning must be an object", "reasoning")
        effort = reasoning.get("effort")
        if effort is not None:
            if not isinstance(effort, str) or effort not in EFFORTS:
                raise _bad(
                    f"reasoning.effort must be one of {', '.join(sorted(EFFORTS))}", "reasoning.effort"
                )
            params["reasoning_effort"] = effort
    response_format = _response_format(body.get("text"))
    if response_format is not None:
        params["response_format"] = response_format
    if isinstance(body.get("user"), str):
        params["user"] = body["user"]
    return ResponsesRequest(
        body=body,
        model=model,
        stream=stream,
        store=store,
        previous_response_id=previous,
        input_messages=messages,
        instructions=instructions,
        chat_params=params,
        max_output_tokens=max_output,
        preferences=preferences,
    )


# -- the answer ------------------------------------------------------------------------------


def response_usage(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cached_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def message_item(text: str, *, item_id: str | None = None, status: str = "completed") -> dict[str, Any]:
    return {
        "id": item_id or new_id("msg"),
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": [text_part(text)] if status == "completed" else [],
    }


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def function_item(
    call_id: str, name: str, arguments: str, *, item_id: str | None = None, status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": item_id or new_id("fc"),
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def output_items(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A chat ``message`` as Responses output items."""
    items: list[dict[str, Any]] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        # The upstream's reasoning text, as OpenAI's reasoning item carries it (``content``).
        items.append(
            {
                "id": new_id("rs"),
                "type": "reasoning",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": reasoning}],
                "status": "completed",
            }
        )
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if isinstance(content, str) and content:
        items.append(message_item(content))
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        items.append(
            function_item(
                str(call.get("id") or new_id("call")),
                str(function.get("name") or ""),
                str(function.get("arguments") or ""),
            )
        )
    return items


def assistant_message(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Output items as the chat message that continues the conversation next turn."""
    text = "".join(
        part.get("text", "") for item in items if item["type"] == "message" for part in item["content"]
    )
    calls = [
        {
            "id": item["call_id"],
            "type": "function",
            "function": {"name": item["name"], "arguments": item["arguments"]},
        }
        for item in items
        if item["type"] == "function_call"
    ]
    if not text and not calls:
        return None
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return message


def response_object(
    request: ResponsesRequest,
    *,
    response_id: str,
    created_at: int,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    finish_reason: str | None = None,
    error: dict[str, Any] | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    body = request.body
    incomplete = None
    if finish_reason == "length" and status == "completed":
        status = "incomplete"
        incomplete = {"reason": "max_output_tokens"}
    elif finish_reason == "content_filter" and status == "completed":
        status = "incomplete"
        incomplete = {"reason": "content_filter"}
    raw_reasoning = body.get("reasoning")
    reasoning: dict[str, Any] = raw_reasoning if isinstance(raw_reasoning, dict) else {}
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "completed_at": int(time.time()) if status in ("completed", "incomplete") else None,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "model": model or request.model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "previous_response_id": request.previous_response_id,
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "store": request.store,
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") if isinstance(body.get("text"), dict) else {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation") or "disabled",
        "usage": usage,
        "user": body.get("user"),
        "metadata": body.get("metadata") if isinstance(body.get("metadata"), dict) else {},
    }


# -- native passthrough (an upstream that speaks Responses itself) -----------------------------

# Ours, never sent upstream: routing preferences are taken out at parse; the conversation of
# ``previous_response_id`` is in our storage (sent as input items), and we store, not the upstream.
_OURS = ("models", "provider", "previous_response_id", "store")


def _input_parts(content: Any, assistant: bool) -> Any:
    if isinstance(content, str) or not isinstance(content, list):
        return content
    parts: list[dict[str, Any]] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "image_url":
            image = part.get("image_url") or {}
            parts.append(
                {"type": "input_image", "image_url": image.get("url"), "detail": image.get("detail", "auto")}
            )
        else:
            parts.append({"type": "output_text" if assistant else "input_text", "text": part.get("text", "")})
    return parts


def history_items(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored chat messages (a conversation of ``previous_response_id``) as Responses input items."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.get("tool_call_id"),
                    "output": message.get("content") or "",
                }
            )
            continue
        content = message.get("content")
        if content:
            items.append(
                {"type": "message", "role": role, "content": _input_parts(content, role == "assistant")}
            )
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            items.append(
                {
                    "type": "function_call",
                    "call_id": call.get("id"),
                    "name": function.get("name"),
                    "arguments": function.get("arguments") or "",
                }
            )
    return items


def native_body(request: ResponsesRequest) -> dict[str, Any]:
    """The client's body for an upstream that speaks Responses: our fields out, ``store``
    false (we store), the stored conversation before this turn's input."""
    body = {key: value for key, value in request.body.items() if key not in _OURS}
    body["store"] = False
    if request.history:
        current = body.get("input")
        turn = (
            [{"type": "message", "role": "user", "content": current}] if isinstance(current, str) else current
        )
        body["input"] = [*history_items(request.history), *(turn or [])]
    return body


def generated_texts(output: Any) -> list[str]:
    """The generated text of Responses output items (for our own count when no usage came)."""
    texts: list[str] = []
    for item in output if isinstance(output, list) else ():
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("arguments"), str):
            texts.append(item["arguments"])
        for key in ("content", "summary"):
            for part in item.get(key) or ():
                if isinstance(part, dict):
                    text = part.get("text", part.get("refusal"))
                    if isinstance(text, str):
                        texts.append(text)
    return texts
