"""A fake OpenAI-compatible upstream: ``POST /v1/chat/completions``, JSON and SSE, exact wire
format, plus the media endpoints ``/v1/embeddings``, ``/v1/images/generations``,
``/v1/audio/transcriptions`` and ``/v1/audio/speech`` (see ``tests.fakes.openai_media_upstream``).

``base_url`` is ``http://127.0.0.1:<port>/v1`` (``api_prefix``; a subclass may change it). Behaviour, recording and token accounting are
described in ``tests.fakes.server``. Like the real API it:

* answers ``401`` (``invalid_api_key``) when ``Behaviour.expected_api_key`` is set and the
  ``Authorization: Bearer`` key differs; ``400`` when ``model``/``messages`` are missing or
  ``stream_options`` is sent without ``stream: true``;
* honours ``n``, ``stop`` (cut, ``finish_reason: "stop"``), ``max_completion_tokens`` /
  ``max_tokens`` (``"length"``), and answers tool calls with ``finish_reason: "tool_calls"``;
* streams a role chunk, one chunk per reply piece / tool-call argument piece, a finish chunk,
  the usage chunk (``choices: []``) only when ``stream_options.include_usage`` is true (every
  other chunk then has ``"usage": null``), and ``data: [DONE]``.

``POST /v1/responses`` is OpenAI's Responses API: a JSON ``response`` (a ``reasoning`` item
when ``Behaviour.reasoning`` is set, a ``message`` item or one ``function_call`` item per tool
call) or, with ``stream: true``, the typed events with their ``sequence_number``
(``response.created``, ``response.in_progress``, per item ``response.output_item.added`` …
``response.output_item.done``, ``response.completed`` with the usage). The usage is
``input_tokens`` (``input_tokens_details.cached_tokens``) and ``output_tokens``
(``output_tokens_details.reasoning_tokens``); ``drop_after``/``hang_after`` count events.

Errors use OpenAI's body: ``{"error": {"message", "type", "param", "code"}}``.

    python -m tests.fakes.openai_upstream --port 18000
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.openai_media_upstream import OpenAIMediaRoutes
from tests.fakes.server import (
    argument_pieces,
    fake_prompt_tokens,
    reply_pieces,
    serve_forever,
    truncate,
)

__all__ = ["FakeOpenAIUpstream", "openai_error"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}
_ERROR_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}


def openai_error(status: int, message: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message or f"fake upstream error {status}",
            "type": _ERROR_TYPES.get(status, "server_error"),
            "param": None,
            "code": code or _ERROR_CODES.get(status),
        }
    }


class FakeOpenAIUpstream(OpenAIMediaRoutes):
    api_prefix = "/v1"
    name = "openai"

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(f"{self.api_prefix}/chat/completions", self.chat)
        app.router.add_post(f"{self.api_prefix}/responses", self.responses)
        self.add_media_routes(app)

    def _check(self, request: web.Request, body: Any) -> web.Response | None:
        expected = self.behaviour.expected_api_key
        if expected is not None and request.headers.get("Authorization") != f"Bearer {expected}":
            return self.error_response(401, openai_error(401, "Incorrect API key provided."))
        if not isinstance(body, dict):
            return self.error_response(
                400, openai_error(400, "We could not parse the JSON body of your request.")
            )
        if not body.get("model"):
            return self.error_response(400, openai_error(400, "you must provide a model parameter"))
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return self.error_response(400, openai_error(400, "'messages' is a required property"))
        if body.get("stream_options") is not None and not body.get("stream"):
            message = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
            return self.error_response(400, openai_error(400, message))
        return None

    def _answer(self, body: dict[str, Any]) -> tuple[list[str], list[tuple[str, str, list[str]]], str, int]:
        """(content pieces, [(call id, name, argument pieces)], finish_reason, completion tokens)."""
        b = self.behaviour
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if b.tool_calls:
            content = reply_pieces(b.tool_preamble)
            calls = [
                (f"call_fake_{i}", c.name, argument_pieces(c.arguments_json))
                for i, c in enumerate(b.tool_calls)
            ]
            tokens = len(content) + sum(len(pieces) for _, _, pieces in calls)
            return content, calls, b.stop_reason or "tool_calls", tokens
        stop = body.get("stop")
        stops = [stop] if isinstance(stop, str) else list(stop or ())
        content, _, finish = truncate(reply_pieces(b.reply), stops, limit)
        return content, [], b.stop_reason or finish or "stop", len(content)

    async def chat(self, request: web.Request) -> web.StreamResponse:
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
                status, b.error_body if b.error_body is not None else openai_error(status)
            )
        body = recorded.json
        invalid = self._check(request, body)
        if invalid is not None:
            return invalid
        content, calls, finish, completion = self._answer(body)
        completion += b.reasoning_tokens + b.audio_output_tokens + len(reply_pieces(b.reasoning))
        prompt = b.prompt_tokens if b.prompt_tokens is not None else fake_prompt_tokens(body["messages"])
        prompt_details: dict[str, Any] = {
            "cached_tokens": b.cached_tokens,
            "audio_tokens": b.audio_input_tokens,
        }
        if b.cache_write_tokens:  # OpenRouter's field for providers that charge cache writes
            prompt_details["cache_write_tokens"] = b.cache_write_tokens
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": prompt_details,
            "completion_tokens_details": {
                "reasoning_tokens": b.reasoning_tokens,
                "audio_tokens": b.audio_output_tokens,
            },
        }
        meta = {
            "id": f"chatcmpl-fake{self.calls}",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_fake",
        }
        n = int(body.get("n") or 1)
        if body.get("stream"):
            return await self._stream(request, generation, body, meta, content, calls, finish, usage, n)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(content) if content or not calls else None,
        }
        if calls:
            message["tool_calls"] = [
                {"id": cid, "type": "function", "function": {"name": name, "arguments": "".join(pieces)}}
                for cid, name, pieces in calls
            ]
        if b.reasoning:
            message["reasoning_content"] = b.reasoning
        message["refusal"] = None
        answer: dict[str, Any] = {
            **meta,
            "object": "chat.completion",
            "choices": [
                {"index": i, "message": message, "logprobs": None, "finish_reason": finish} for i in range(n)
            ],
            "service_tier": "default",
        }
        if not b.omit_usage:
            answer["usage"] = {
                **usage,
                "completion_tokens": completion * n,
                "total_tokens": prompt + completion * n,
            }
        return web.Response(body=orjson.dumps(answer), content_type="application/json", headers=b.headers)

    async def _stream(
        self,
        request: web.Request,
        generation: int,
        body: dict[str, Any],
        meta: dict[str, Any],
        content: list[str],
        calls: list[tuple[str, str, list[str]]],
        finish: str,
        usage: dict[str, Any],
        n: int,
    ) -> web.StreamResponse:
        b = self.behaviour
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {**meta, "object": "chat.completion.chunk"}
        if include_usage:
            base["usage"] = None

        def chunk(index: int, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                **base,
                "choices": [
                    {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }

        events: list[dict[str, Any]] = []
        for i in range(n):
            events.append(chunk(i, {"role": "assistant", "content": ""}))
            events.extend(chunk(i, {"reasoning_content": piece}) for piece in reply_pieces(b.reasoning))
            events.extend(chunk(i, {"content": piece}) for piece in content)
            for index, (cid, name, pieces) in enumerate(calls):
                start = {
                    "index": index,
                    "id": cid,
                    "type": "function",
                    "function": {"name": name, "arguments": ""},
                }
                events.append(chunk(i, {"tool_calls": [start]}))
                events.extend(
                    chunk(i, {"tool_calls": [{"index": index, "function": {"arguments": p}}]}) for p in pieces
                )
            events.append(chunk(i, {}, finish))
        if include_usage and not b.omit_usage:
            total = usage["completion_tokens"] * n
            events.append(
                {
                    **base,
                    "choices": [],
                    "usage": {
                        **usage,
                        "completion_tokens": total,
                        "total_tokens": usage["prompt_tokens"] + total,
                    },
                }
            )

        response = await self.start_sse(request)
        try:
            for sent, event in enumerate(events):
                if sent == b.drop_after:
                    request.transport.abort()  # type: ignore[union-attr]
                    return response
                if sent == b.hang_after:
                    await asyncio.sleep(3600)
                if sent == b.error_event_after:
                    error = openai_error(500, "The server had an error while processing your request.")
                    await response.write(b"data: " + orjson.dumps(error) + b"\n\n")
                    await response.write_eof()
                    return response
                await self.pause(b.chunk_delay)
                if b.keepalive:
                    await response.write(b": keep-alive\n\n")
                await response.write(b"data: " + orjson.dumps(event) + b"\n\n")
            if not b.omit_done:
                await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except asyncio.CancelledError:
            self.note_disconnect(generation)
            raise
        except ConnectionResetError:
            self.note_disconnect(generation)
        return response

    # -- Responses API ----------------------------------------------------------------------

    def _response_body(
        self, body: dict[str, Any], status: str, output: list[Any], usage: Any
    ) -> dict[str, Any]:
        return {
            "id": f"resp_fake{self.calls}_{int(time.time() * 1000)}",
            "object": "response",
            "created_at": int(time.time()),
            "status": status,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": body["model"],
            "output": output,
            "parallel_tool_calls": True,
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": None, "summary": None},
            "store": body.get("store", True),
            "temperature": 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": usage,
            "user": None,
            "metadata": {},
        }

    async def responses(self, request: web.Request) -> web.StreamResponse:
        recorded, generation = await self.record(request)
        b = self.behaviour
        status = self.forced_failure()
        if status is not None:
            return self.error_response(
                status, b.error_body if b.error_body is not None else openai_error(status)
            )
        body = recorded.json
        if not isinstance(body, dict) or not body.get("model") or "input" not in body:
            return self.error_response(400, openai_error(400, "'model' and 'input' are required"))
        calls = [
            (f"call_fake_{i}", c.name, argument_pieces(c.arguments_json)) for i, c in enumerate(b.tool_calls)
        ]
        content = [] if calls else reply_pieces(b.reply)
        reasoning = reply_pieces(b.reasoning)
        completion = len(content) + sum(len(p) for _, _, p in calls) + len(reasoning) + b.reasoning_tokens
        text = body["input"] if isinstance(body["input"], str) else orjson.dumps(body["input"]).decode()
        prompt = b.prompt_tokens if b.prompt_tokens is not None else max(1, len(text.split()))
        usage = None
        if not b.omit_usage:
            usage = {
                "input_tokens": prompt,
                "input_tokens_details": {"cached_tokens": b.cached_tokens},
                "output_tokens": completion,
                "output_tokens_details": {"reasoning_tokens": b.reasoning_tokens + len(reasoning)},
                "total_tokens": prompt + completion,
            }
        items: list[tuple[dict[str, Any], list[str]]] = []  # (done item, delta pieces)
        if reasoning:
            item = {
                "id": "rs_fake",
                "type": "reasoning",
                "summary": [],
                "status": "completed",
                "content": [{"type": "reasoning_text", "text": "".join(reasoning)}],
            }
            items.append((item, reasoning))
        if content:
            part = {"type": "output_text", "text": "".join(content), "annotations": [], "logprobs": []}
            item = {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [part],
            }
            items.append((item, content))
        for cid, name, pieces in calls:
            item = {
                "id": f"fc_{cid}",
                "type": "function_call",
                "call_id": cid,
                "name": name,
                "arguments": "".join(pieces),
                "status": "completed",
            }
            items.append((item, pieces))
        final = self._response_body(body, "completed", [item for item, _ in items], usage)
        if not body.get("stream"):
            return web.Response(body=orjson.dumps(final), content_type="application/json", headers=b.headers)
        start = {**final, "status": "in_progress", "output": [], "usage": None}
        events: list[dict[str, Any]] = [
            {"type": "response.created", "response": start},
            {"type": "response.in_progress", "response": start},
        ]
        for index, (item, pieces) in enumerate(items):
            common = {"item_id": item["id"], "output_index": index}
            if item["type"] == "message" or item["type"] == "reasoning":
                opened = {**item, "status": "in_progress", "content": []}
            else:
                opened = {**item, "status": "in_progress", "arguments": ""}
            events.append({"type": "response.output_item.added", "output_index": index, "item": opened})
            if item["type"] == "message":
                part = item["content"][0]
                events.append(
                    {
                        "type": "response.content_part.added",
                        **common,
                        "content_index": 0,
                        "part": {**part, "text": ""},
                    }
                )
                events.extend(
                    {
                        "type": "response.output_text.delta",
                        **common,
                        "content_index": 0,
                        "delta": piece,
                        "logprobs": [],
                    }
                    for piece in pieces
                )
                events.append(
                    {
                        "type": "response.output_text.done",
                        **common,
                        "content_index": 0,
                        "text": part["text"],
                        "logprobs": [],
                    }
                )
                events.append(
                    {"type": "response.content_part.done", **common, "content_index": 0, "part": part}
                )
            elif item["type"] == "reasoning":
                events.extend(
                    {"type": "response.reasoning_text.delta", **common, "content_index": 0, "delta": piece}
                    for piece in pieces
                )
                events.append(
                    {
                        "type": "response.reasoning_text.done",
                        **common,
                        "content_index": 0,
                        "text": item["content"][0]["text"],
                    }
                )
            else:
                events.extend(
                    {"type": "response.function_call_arguments.delta", **common, "delta": piece}
                    for piece in pieces
                )
                events.append(
                    {
                        "type": "response.function_call_arguments.done",
                        **common,
                        "arguments": item["arguments"],
                    }
                )
            events.append({"type": "response.output_item.done", "output_index": index, "item": item})
        events.append({"type": "response.completed", "response": final})
        response = await self.start_sse(request)
        try:
            for sent, event in enumerate(events):
                if sent == b.drop_after:
                    request.transport.abort()  # type: ignore[union-attr]
                    return response
                if sent == b.hang_after:
                    await asyncio.sleep(3600)
                await self.pause(b.chunk_delay)
                data = {**event, "sequence_number": sent}
                await response.write(
                    f"event: {event['type']}\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n"
                )
            await response.write_eof()
        except asyncio.CancelledError:
            self.note_disconnect(generation)
            raise
        except ConnectionResetError:
            self.note_disconnect(generation)
        return response


if __name__ == "__main__":
    serve_forever(FakeOpenAIUpstream())
