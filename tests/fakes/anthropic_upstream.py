"""A fake Anthropic Messages API: ``POST /v1/messages``, JSON and SSE, exact wire format.

``base_url`` is ``http://127.0.0.1:<port>`` (the adapter appends ``/v1/messages``). Behaviour,
recording and token accounting are described in ``tests.fakes.server``. Like the real API it:

* requires ``anthropic-version``; answers ``401 authentication_error`` when
  ``Behaviour.expected_api_key`` is set and ``x-api-key`` differs;
* validates what a translation can get wrong, answering ``400 invalid_request_error``:
  ``model``/``max_tokens``/``messages`` required, roles only ``user``/``assistant``, known
  block types, non-empty text blocks, image sources, ``temperature`` in [0, 1], tools with
  ``name`` + ``input_schema``, ``tool_choice`` types, and every ``tool_use`` answered by a
  ``tool_result`` in the next (user) message;
* honours ``stop_sequences`` (``stop_reason: "stop_sequence"``), ``max_tokens``
  (``"max_tokens"``) and answers tool calls with ``tool_use`` blocks (``"tool_use"``);
* answers ``Behaviour.reasoning`` as a first ``thinking`` block with a ``signature``;
* streams ``message_start`` (usage with ``input_tokens``), ``ping``, per block
  ``content_block_start`` / ``content_block_delta`` (``text_delta``, ``input_json_delta``, or
  ``thinking_delta`` then ``signature_delta``)
  / ``content_block_stop``, ``message_delta`` (stop reason + cumulative ``output_tokens``),
  ``message_stop``; each as ``event: <type>`` + ``data: <json>``.

Errors use Anthropic's body ``{"type": "error", "error": {"type", "message"}, "request_id"}``
(529 → ``overloaded_error``); an in-stream error is ``event: error``.

    python -m tests.fakes.anthropic_upstream --port 18001
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.server import (
    FakeUpstream,
    argument_pieces,
    fake_prompt_tokens,
    reply_pieces,
    serve_forever,
    truncate,
)

__all__ = ["FakeAnthropicUpstream", "anthropic_error"]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_BLOCK_TYPES = {"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"}
_STOP = {"stop": "end_turn", "length": "max_tokens", "": "end_turn"}


def anthropic_error(status: int, message: str | None = None) -> dict[str, Any]:
    kind = ERROR_TYPES.get(status, "api_error")
    return {
        "type": "error",
        "error": {
            "type": kind,
            "message": message or ("Overloaded" if status == 529 else f"fake error {status}"),
        },
        "request_id": "req_fake",
    }


def _block_problem(block: Any, role: str) -> str | None:
    if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
        return f"unknown content block {block!r}"
    kind = block["type"]
    if kind == "text" and not block.get("text"):
        return "text content blocks must be non-empty"
    if kind == "image":
        source = block.get("source") or {}
        ok = (source.get("type") == "base64" and source.get("media_type") and source.get("data")) or (
            source.get("type") == "url" and source.get("url")
        )
        return None if ok else "image source must be base64 (media_type, data) or url"
    if kind == "tool_use" and (role != "assistant" or not isinstance(block.get("input"), dict)):
        return "tool_use blocks belong to assistant messages and need an object input"
    if kind == "tool_result" and (role != "user" or not block.get("tool_use_id")):
        return "tool_result blocks belong to user messages and need tool_use_id"
    return None


def validate(body: Any) -> str | None:
    """The error message the real API would give for this body, or None if it is valid."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            return f"{key}: Field required"
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        return "max_tokens: must be a positive integer"
    temperature = body.get("temperature")
    if temperature is not None and not 0 <= temperature <= 1:
        return "temperature: range: 0..1"
    for tool in body.get("tools") or ():
        if not tool.get("name") or not isinstance(tool.get("input_schema"), dict):
            return "tools: each tool needs name and input_schema"
    choice = body.get("tool_choice")
    if choice is not None and choice.get("type") not in ("auto", "any", "tool", "none"):
        return "tool_choice: unknown type"
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    pending: set[str] = set()
    for i, message in enumerate(messages):
        role = message.get("role")
        if role not in ("user", "assistant"):
            return f'messages.{i}.role: Input should be "user" or "assistant"'
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list):
            return f"messages.{i}.content: must be a string or a list"
        for block in blocks:
            problem = _block_problem(block, role)
            if problem:
                return f"messages.{i}: {problem}"
        answered = {b["tool_use_id"] for b in blocks if b["type"] == "tool_result"}
        if pending and not pending <= answered:
            return f"messages.{i}: tool_use ids were found without tool_result blocks immediately after"
        pending = {b["id"] for b in blocks if b["type"] == "tool_use"}
    return None


def _sse(event: dict[str, Any]) -> bytes:
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"


class FakeAnthropicUpstream(FakeUpstream):
    name = "anthropic"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self.messages)

    def _plan(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, str | None, int]:
        """(content blocks, stop_reason, stop_sequence, output tokens)."""
        b = self.behaviour
        if b.tool_calls:
            blocks: list[dict[str, Any]] = []
            tokens = 0
            if b.tool_preamble:
                blocks.append({"type": "text", "text": b.tool_preamble})
                tokens += len(reply_pieces(b.tool_preamble))
            for i, call in enumerate(b.tool_calls):
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": f"toolu_fake_{i}",
                        "name": call.name,
                        "input": orjson.loads(call.arguments_json),
                    }
                )
                tokens += len(argument_pieces(call.arguments_json))
            return blocks, b.stop_reason or "tool_use", None, tokens
        pieces, matched, finish = truncate(
            reply_pieces(b.reply), list(body.get("stop_sequences") or ()), body["max_tokens"]
        )
        reason = b.stop_reason or ("stop_sequence" if matched else _STOP[finish])
        return [{"type": "text", "text": "".join(pieces)}], reason, matched, len(pieces)

    async def messages(self, request: web.Request) -> web.StreamResponse:
        recorded, generation = await self.record(request)
        b = self.behaviour
        try:
            await self.pause(b.headers_delay)
        except asyncio.CancelledError:
            self.note_disconnect(generation)
            raise
        status = self.forced_failure()
        if status is not None:
            return self.error_response(
                status, b.error_body if b.error_body is not None else anthropic_error(status)
            )
        if b.expected_api_key is not None and request.headers.get("x-api-key") != b.expected_api_key:
            return self.error_response(401, anthropic_error(401, "invalid x-api-key"))
        if not request.headers.get("anthropic-version"):
            return self.error_response(400, anthropic_error(400, "anthropic-version: header is required"))
        body = recorded.json
        problem = validate(body)
        if problem:
            return self.error_response(400, anthropic_error(400, problem))
        blocks, stop_reason, stop_sequence, output = self._plan(body)
        output += b.reasoning_tokens  # Anthropic counts thinking in output_tokens
        if b.reasoning:
            signature = f"sig_fake_{len(b.reasoning)}"
            blocks.insert(0, {"type": "thinking", "thinking": b.reasoning, "signature": signature})
            output += len(reply_pieces(b.reasoning))
        prompt = (
            b.prompt_tokens
            if b.prompt_tokens is not None
            else fake_prompt_tokens(body["messages"], body.get("system"))
        )
        # Anthropic's input_tokens excludes cache reads and writes.
        usage: dict[str, Any] = {
            "input_tokens": prompt - b.cached_tokens - b.cache_write_tokens,
            "output_tokens": output,
            "cache_creation_input_tokens": b.cache_write_tokens,
            "cache_read_input_tokens": b.cached_tokens,
        }
        if b.cache_write_tokens:
            usage["cache_creation"] = {
                "ephemeral_5m_input_tokens": b.cache_write_tokens - b.cache_write_1h_tokens,
                "ephemeral_1h_input_tokens": b.cache_write_1h_tokens,
            }
        message = {
            "id": f"msg_fake{self.calls}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
        }
        if not b.omit_usage:
            message["usage"] = usage
        if body.get("stream"):
            return await self._stream(request, generation, message, usage)
        return web.Response(body=orjson.dumps(message), content_type="application/json", headers=b.headers)

    def _events(self, message: dict[str, Any], usage: dict[str, Any]) -> list[dict[str, Any]]:
        b = self.behaviour
        start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
        if not b.omit_usage:
            start["usage"] = {**usage, "output_tokens": 1}
        events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                events.append(
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "text", "text": ""},
                    }
                )
                events.extend(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    }
                    for piece in reply_pieces(block["text"])
                )
            elif block["type"] == "thinking":
                opened = {"type": "thinking", "thinking": "", "signature": ""}
                events.append({"type": "content_block_start", "index": index, "content_block": opened})
                events.extend(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "thinking_delta", "thinking": piece},
                    }
                    for piece in reply_pieces(block["thinking"])
                )
                signature = {"type": "signature_delta", "signature": block["signature"]}
                events.append({"type": "content_block_delta", "index": index, "delta": signature})
            else:
                opened = {**block, "input": {}}
                events.append({"type": "content_block_start", "index": index, "content_block": opened})
                events.extend(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    }
                    for piece in argument_pieces(orjson.dumps(block["input"]).decode())
                )
            events.append({"type": "content_block_stop", "index": index})
        delta: dict[str, Any] = {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]},
        }
        if not b.omit_usage:
            delta["usage"] = {"output_tokens": usage["output_tokens"]}
        events.extend([delta, {"type": "message_stop"}])
        return events

    async def _stream(
        self, request: web.Request, generation: int, message: dict[str, Any], usage: dict[str, Any]
    ) -> web.StreamResponse:
        b = self.behaviour
        response = await self.start_sse(request)
        try:
            for sent, event in enumerate(self._events(message, usage)):
                if sent == b.drop_after:
                    request.transport.abort()  # type: ignore[union-attr]
                    return response
                if sent == b.hang_after:
                    await asyncio.sleep(3600)
                if sent == b.error_event_after:
                    await response.write(_sse(anthropic_error(529)))
                    await response.write_eof()
                    return response
                await self.pause(b.chunk_delay)
                if b.keepalive:
                    await response.write(_sse({"type": "ping"}))
                await response.write(_sse(event))
            await response.write_eof()
        except asyncio.CancelledError:
            self.note_disconnect(generation)
            raise
        except ConnectionResetError:
            self.note_disconnect(generation)
        return response


if __name__ == "__main__":
    serve_forever(FakeAnthropicUpstream())
