"""The offline simulator: determinism, limits, n, tools, JSON modes, real token counts."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from modelsnest.providers.errors import ProviderBadRequest
from modelsnest.providers.simulated_content import value_for_schema
from modelsnest.providers.simulator import SYSTEM_FINGERPRINT, SimulatorProvider
from modelsnest.providers.tokens import count_tokens, estimate_prompt_tokens
from modelsnest.providers.types import ChatChunk, ProviderConfig

MESSAGES = [{"role": "user", "content": "Tell me about the weather in Lisbon."}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "note": {"type": "string"},
            },
            "required": ["city", "unit", "days"],
        },
    },
}


def simulator(**extra: Any) -> SimulatorProvider:
    return SimulatorProvider(
        ProviderConfig(name="sim", kind="simulator", extra={"chunk_delay_ms": 0, **extra})
    )


def request(**extra: Any) -> dict[str, Any]:
    return {"model": "sim/model", "messages": MESSAGES, **extra}


async def collect(stream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    return [chunk async for chunk in stream]


def streamed_text(chunks: list[ChatChunk], index: int = 0) -> str:
    return "".join(
        c.data["choices"][0]["delta"].get("content") or ""
        for c in chunks
        if c.data["choices"] and c.data["choices"][0]["index"] == index
    )


async def test_labelled_deterministic_and_counted() -> None:
    sim = simulator()
    first = await sim.chat(request(), "sim-1")
    second = await sim.chat(request(), "sim-1")
    other = await sim.chat(
        request(messages=[{"role": "user", "content": "Something else entirely"}]), "sim-1"
    )
    content = first.body["choices"][0]["message"]["content"]
    assert (
        content
        == second.body["choices"][0]["message"]["content"]
        != other.body["choices"][0]["message"]["content"]
    )
    assert first.body["system_fingerprint"] == SYSTEM_FINGERPRINT
    assert "simulat" in content.lower() and "Lisbon" in content
    assert first.body["model"] == "sim-1" and first.body["object"] == "chat.completion"
    assert first.usage.prompt_tokens == estimate_prompt_tokens(MESSAGES)
    assert first.usage.completion_tokens == count_tokens(content)
    assert first.body["usage"]["total_tokens"] == first.usage.total_tokens
    assert first.body["choices"][0]["finish_reason"] == "stop"


async def test_stream_matches_non_stream_and_counts() -> None:
    sim = simulator()
    plain = await sim.chat(request(), "m")
    chunks = await collect(sim.chat_stream(request(), "m"))
    assert streamed_text(chunks) == plain.body["choices"][0]["message"]["content"]
    assert chunks[0].data["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert len({c.data["id"] for c in chunks}) == 1
    assert all(c.data["system_fingerprint"] == SYSTEM_FINGERPRINT for c in chunks)
    last = chunks[-1]
    assert last.data["choices"] == [] and last.usage is not None
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (
        plain.usage.prompt_tokens,
        plain.usage.completion_tokens,
    )
    assert sum(c.completion_tokens_delta for c in chunks) == plain.usage.completion_tokens


async def test_max_tokens() -> None:
    sim = simulator()
    for key in ("max_tokens", "max_completion_tokens"):
        result = await sim.chat(request(**{key: 5}), "m")
        assert result.usage.completion_tokens == 5
        assert result.body["choices"][0]["finish_reason"] == "length"
        assert count_tokens(result.body["choices"][0]["message"]["content"]) == 5
    chunks = await collect(sim.chat_stream(request(max_tokens=5), "m"))
    assert sum(c.completion_tokens_delta for c in chunks) == 5
    assert chunks[-2].data["choices"][0]["finish_reason"] == "length"


async def test_stop_sequence() -> None:
    sim = simulator()
    full = (await sim.chat(request(), "m")).body["choices"][0]["message"]["content"]
    result = await sim.chat(request(stop=["Lisbon", "zzz-never"]), "m")
    content = result.body["choices"][0]["message"]["content"]
    assert content == full[: full.index("Lisbon")]
    assert result.body["choices"][0]["finish_reason"] == "stop"
    assert result.usage.completion_tokens == count_tokens(content)
    assert streamed_text(await collect(sim.chat_stream(request(stop="Lisbon"), "m"))) == content


async def test_n_choices() -> None:
    sim = simulator()
    result = await sim.chat(request(n=3), "m")
    texts = [c["message"]["content"] for c in result.body["choices"]]
    assert [c["index"] for c in result.body["choices"]] == [0, 1, 2]
    assert len(set(texts)) == 3
    assert result.usage.completion_tokens == sum(count_tokens(t) for t in texts)
    chunks = await collect(sim.chat_stream(request(n=3), "m"))
    assert [streamed_text(chunks, i) for i in range(3)] == texts


async def test_tools() -> None:
    sim = simulator()
    result = await sim.chat(request(tools=[WEATHER_TOOL]), "m")
    choice = result.body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["type"] == "function" and call["id"].startswith("call_")
    arguments = orjson.loads(call["function"]["arguments"])
    assert set(arguments) == {"city", "unit", "days"}
    assert (
        isinstance(arguments["city"], str) and arguments["unit"] == "celsius" and 1 <= arguments["days"] <= 7
    )
    assert result.usage.completion_tokens == count_tokens(call["function"]["arguments"])

    chunks = await collect(sim.chat_stream(request(tools=[WEATHER_TOOL]), "m"))
    deltas = [c.data["choices"][0]["delta"] for c in chunks if c.data["choices"]]
    parts = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert parts[0]["function"]["name"] == "get_weather" and parts[0]["id"] == call["id"]
    assert "".join(p["function"]["arguments"] for p in parts) == call["function"]["arguments"]
    assert chunks[-2].data["choices"][0]["finish_reason"] == "tool_calls"


async def test_tool_choice_variants() -> None:
    sim = simulator()
    other = {
        "type": "function",
        "function": {
            "name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string", "minLength": 10}}},
        },
    }
    named = await sim.chat(
        request(
            tools=[WEATHER_TOOL, other], tool_choice={"type": "function", "function": {"name": "lookup"}}
        ),
        "m",
    )
    call = named.body["choices"][0]["message"]["tool_calls"][0]["function"]
    assert call["name"] == "lookup" and len(orjson.loads(call["arguments"])["q"]) >= 10
    none = await sim.chat(request(tools=[WEATHER_TOOL], tool_choice="none"), "m")
    assert none.body["choices"][0]["finish_reason"] == "stop"
    # After a tool result, "auto" answers in text so agent loops end; "required" calls again.
    history = [
        *MESSAGES,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 24C"},
    ]
    answer = await sim.chat(request(messages=history, tools=[WEATHER_TOOL]), "m")
    assert "Sunny, 24C" in answer.body["choices"][0]["message"]["content"]
    again = await sim.chat(request(messages=history, tools=[WEATHER_TOOL], tool_choice="required"), "m")
    assert again.body["choices"][0]["finish_reason"] == "tool_calls"


async def test_json_modes() -> None:
    sim = simulator()
    plain = await sim.chat(request(response_format={"type": "json_object"}), "m")
    assert orjson.loads(plain.body["choices"][0]["message"]["content"])["simulated"] is True
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 18},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "address": {"$ref": "#/$defs/address"},
            "kind": {"anyOf": [{"type": "null"}, {"const": "x"}]},
        },
        "required": ["name", "age", "tags", "address", "kind"],
        "additionalProperties": False,
        "$defs": {
            "address": {
                "type": "object",
                "properties": {"zip": {"type": "string", "format": "date"}},
                "required": ["zip"],
            }
        },
    }
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "person", "schema": schema, "strict": True},
    }
    result = await sim.chat(request(response_format=response_format), "m")
    value = orjson.loads(result.body["choices"][0]["message"]["content"])
    assert set(value) == {"name", "age", "tags", "address", "kind"}
    assert value["age"] >= 18 and len(value["tags"]) == 2 and value["address"] == {"zip": "2025-01-01"}
    assert value["kind"] is None


def test_schema_values() -> None:
    import random

    rng = random.Random(1)
    assert value_for_schema({"type": "number", "exclusiveMinimum": 5}, rng) == 6.0
    assert value_for_schema({"type": "integer", "maximum": 0}, rng) == 0
    assert value_for_schema({"type": ["null", "boolean"]}, rng) is True
    assert len(value_for_schema({"type": "string", "maxLength": 2}, rng)) <= 2
    assert len(value_for_schema({"type": "string", "format": "uuid"}, rng)) == 36
    assert value_for_schema({"properties": {"a": {"default": 3}}}, rng) == {"a": 3}


def _nested_arrays(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "array", "minItems": 16, "items": schema}
    return schema


HOSTILE_SCHEMAS = [
    {"type": "array", "minItems": 10**9, "items": {"type": "string"}},  # would be a billion items
    {"type": "string", "minLength": 10**9},
    _nested_arrays(12),  # 16**12 leaves if followed
    {"type": "array", "minItems": "many", "items": 3},
    {"type": "object", "properties": [1, 2]},
    {"type": "object", "required": 5, "properties": {"a": {}}},
    {"type": "integer", "minimum": float("inf")},
]


@pytest.mark.parametrize("schema", HOSTILE_SCHEMAS)
async def test_a_clients_schema_cannot_make_the_simulator_build_a_huge_value_or_fail(
    schema: dict[str, Any],
) -> None:
    started = time.perf_counter()
    response_format = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    result = await simulator().chat(request(response_format=response_format, tools=None), "m")
    text = result.body["choices"][0]["message"]["content"]
    assert len(text) < 200_000 and time.perf_counter() - started < 2
    orjson.loads(text)  # still a JSON answer


async def test_pacing_is_configurable() -> None:
    sim = simulator(chunk_delay_ms=5, answer_words=5)
    started = time.monotonic()
    chunks = await collect(sim.chat_stream(request(), "m"))
    elapsed = time.monotonic() - started
    assert elapsed >= 0.005 * (len(chunks) - 1) * 0.8
    assert SimulatorProvider(ProviderConfig(name="s", kind="simulator"))._chunk_delay == 0.015


async def test_bad_requests() -> None:
    sim = simulator()
    with pytest.raises(ProviderBadRequest):
        await sim.chat({"model": "m", "messages": []}, "m")
    with pytest.raises(ProviderBadRequest):
        await collect(sim.chat_stream({"model": "m", "messages": ["hi"]}, "m"))
    await sim.close()


async def test_repeated_prompt_prefix_reports_cached_tokens_like_openai() -> None:
    sim = simulator()
    long_system = {"role": "system", "content": "You are a careful assistant. " * 300}
    first = [long_system, {"role": "user", "content": "First question?"}]
    second = [long_system, {"role": "user", "content": "Another question?"}]
    cold = await sim.chat(request(messages=first), "m")
    assert cold.usage.cached_tokens == 0 and "prompt_tokens_details" not in cold.body["usage"]
    warm = await sim.chat(request(messages=second), "m")
    prefix = estimate_prompt_tokens([long_system])
    assert prefix >= 1024
    assert warm.usage.cached_tokens == prefix // 128 * 128  # OpenAI caches in 128-token steps
    assert warm.body["usage"]["prompt_tokens_details"] == {"cached_tokens": warm.usage.cached_tokens}
    streamed = await collect(sim.chat_stream(request(messages=second), "m"))
    assert streamed[-1].usage is not None and streamed[-1].usage.cached_tokens == warm.usage.cached_tokens
    # A short shared prefix is below OpenAI's 1024-token minimum: nothing is cached.
    short = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    await sim.chat(request(messages=short), "m")
    again = await sim.chat(request(messages=[short[0], {"role": "user", "content": "Ho"}]), "m")
    assert again.usage.cached_tokens == 0
    # Another simulator instance (another process) has its own cache.
    assert (await simulator().chat(request(messages=second), "m")).usage.cached_tokens == 0
