"""The built-in simulator: an offline, deterministic stand-in for a chat model, and for every
media capability (embeddings, images, transcription, speech, video: see ``simulated_media``).

Answers are labelled as simulated (``system_fingerprint: "modelsnest-simulator"`` and a note
at the start of every prose answer) and built by ``simulated_content`` (same request → same
answer; ``n``, ``stop``, ``max_tokens``, tools and JSON modes honoured). Usage is real for the
local tokenizer: ``prompt_tokens = tokens.estimate_prompt_tokens(messages, tools)`` and
``completion_tokens`` = the number of ``tokens.split_tokens`` pieces generated, which is also
exactly what a stream delivers (one piece per chunk, ``completion_tokens_delta = 1``).

``ProviderConfig.extra``:

* ``chunk_delay_ms`` (default 15): pause before each streamed chunk; 0 for tests.
* ``first_chunk_delay_ms`` (default: ``chunk_delay_ms``): pause before the first chunk.
* ``answer_words``: length of prose answers in words (default 30–80, chosen per request).
* ``embedding_dimensions``, ``video_seconds_to_finish``, ``video_max_side``: see
  ``simulated_media``.

Non-streamed answers return at once.

Prompt caching is simulated the way OpenAI caches automatically: a request whose leading
messages (all but at least the last one, with the same tools) repeat those of an earlier
request to this provider reports the tokens of that prefix as ``cached_tokens``, when the
prefix has at least 1,024 tokens, in steps of 128 — deterministic for the same sequence of
requests to one process (the cache holds the last ``PROMPT_CACHE_ENTRIES`` prefixes).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import orjson

from modelsnest.providers.base import openai_usage, require_messages, usage_chunk
from modelsnest.providers.errors import ProviderBadRequest
from modelsnest.providers.kinds import SIMULATOR
from modelsnest.providers.simulated_content import PlannedChoice, plan_choice, request_seed
from modelsnest.providers.simulated_media import SimulatedMedia
from modelsnest.providers.tokens import estimate_prompt_tokens
from modelsnest.providers.types import ChatChunk, ChatResult, ProviderConfig, Usage

__all__ = ["SYSTEM_FINGERPRINT", "SimulatorProvider"]

SYSTEM_FINGERPRINT = "modelsnest-simulator"
DEFAULT_CHUNK_DELAY_MS = 15.0
MAX_CHOICES = 16
PROMPT_CACHE_ENTRIES = 4096
CACHE_MIN_TOKENS = 1024
CACHE_STEP_TOKENS = 128


class PromptCache:
    """Which message prefixes were seen, as a chain of hashes (one per prefix, O(n) per request)."""

    def __init__(self, capacity: int = PROMPT_CACHE_ENTRIES) -> None:
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._capacity = capacity

    def cached_tokens(self, messages: list[Any], tools: Any) -> int:
        """Tokens of the longest previously seen proper prefix; then remember every prefix."""
        digest = hashlib.sha256(orjson.dumps(tools or None, option=orjson.OPT_SORT_KEYS)).digest()
        prefixes: list[bytes] = []
        for message in messages:
            digest = hashlib.sha256(digest + orjson.dumps(message, option=orjson.OPT_SORT_KEYS)).digest()
            prefixes.append(digest)
        hit = 0
        for length in range(len(prefixes) - 1, 0, -1):
            if prefixes[length - 1] in self._seen:
                hit = length
                break
        for key in prefixes:
            self._seen[key] = None
            self._seen.move_to_end(key)
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        if not hit:
            return 0
        tokens = estimate_prompt_tokens(messages[:hit], tools)
        return tokens // CACHE_STEP_TOKENS * CACHE_STEP_TOKENS if tokens >= CACHE_MIN_TOKENS else 0


def _tool_calls(plan: PlannedChoice) -> list[dict[str, Any]]:
    function = {"name": plan.tool_name, "arguments": plan.text}
    return [{"id": plan.tool_call_id, "type": "function", "function": function}]


class SimulatorProvider(SimulatedMedia):
    """Chat completions and every media capability answered locally (see the module
    docstring and ``simulated_media``)."""

    capabilities: ClassVar[frozenset[str]] = SIMULATOR.capabilities

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        extra = config.extra
        self._chunk_delay = float(extra.get("chunk_delay_ms", DEFAULT_CHUNK_DELAY_MS)) / 1000
        self._first_delay = float(extra.get("first_chunk_delay_ms", self._chunk_delay * 1000)) / 1000
        words = extra.get("answer_words")
        self._answer_words = int(words) if words is not None else None
        self._prompt_cache = PromptCache()

    def _plan(self, request: dict[str, Any]) -> tuple[list[PlannedChoice], Usage]:
        messages = require_messages(request)
        n = request.get("n") or 1
        if not isinstance(n, int):
            raise ProviderBadRequest("n must be an integer", status=400)
        n = min(max(n, 1), MAX_CHOICES)
        seed = request_seed(request)
        plans = [plan_choice(request, seed, index, self._answer_words) for index in range(n)]
        prompt = estimate_prompt_tokens(messages, request.get("tools"))
        usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=sum(len(plan.pieces) for plan in plans),
            cached_tokens=min(prompt, self._prompt_cache.cached_tokens(messages, request.get("tools"))),
        )
        return plans, usage

    async def chat(self, request: dict[str, Any], upstream_model: str) -> ChatResult:
        plans, usage = self._plan(request)
        choices = []
        for index, plan in enumerate(plans):
            message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
            if plan.tool_name is not None:
                message["tool_calls"] = _tool_calls(plan)
            else:
                message["content"] = plan.text
            choices.append(
                {"index": index, "message": message, "logprobs": None, "finish_reason": plan.finish_reason}
            )
        body = {
            "id": f"chatcmpl-sim-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": upstream_model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": choices,
            "usage": openai_usage(usage),
        }
        return ChatResult(body=body, usage=usage, upstream_model=upstream_model)

    @staticmethod
    def _deltas(index: int, plan: PlannedChoice) -> Iterator[tuple[dict[str, Any], int]]:
        """(choice, tokens) of one choice's chunks: role, pieces, then the finish."""
        yield (
            {
                "index": index,
                "delta": {"role": "assistant", "content": ""},
                "logprobs": None,
                "finish_reason": None,
            },
            0,
        )
        if plan.tool_name is not None:
            call = {
                "index": 0,
                "id": plan.tool_call_id,
                "type": "function",
                "function": {"name": plan.tool_name, "arguments": ""},
            }
            yield (
                {"index": index, "delta": {"tool_calls": [call]}, "logprobs": None, "finish_reason": None},
                0,
            )
            for piece in plan.pieces:
                delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                yield {"index": index, "delta": delta, "logprobs": None, "finish_reason": None}, 1
        else:
            for piece in plan.pieces:
                yield (
                    {"index": index, "delta": {"content": piece}, "logprobs": None, "finish_reason": None},
                    1,
                )
        yield {"index": index, "delta": {}, "logprobs": None, "finish_reason": plan.finish_reason}, 0

    async def chat_stream(self, request: dict[str, Any], upstream_model: str) -> AsyncIterator[ChatChunk]:
        plans, usage = self._plan(request)
        chunk_id = f"chatcmpl-sim-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        streams = [self._deltas(index, plan) for index, plan in enumerate(plans)]
        delay = self._first_delay
        for step in itertools.zip_longest(*streams):
            for item in step:
                if item is None:
                    continue
                if delay > 0:
                    await asyncio.sleep(delay)
                delay = self._chunk_delay
                choice, tokens = item
                data = {
                    "id": chunk_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": upstream_model,
                    "system_fingerprint": SYSTEM_FINGERPRINT,
                    "choices": [choice],
                }
                yield ChatChunk(data, completion_tokens_delta=tokens)
        data = usage_chunk(chunk_id, created, upstream_model, usage)
        data["system_fingerprint"] = SYSTEM_FINGERPRINT
        yield ChatChunk(data, usage=dataclasses.replace(usage))

    async def close(self) -> None:
        return None
