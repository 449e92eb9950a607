"""Anthropic Messages ⇄ OpenAI chat completions, the translation ``/api/v1/messages`` uses for
OpenAI-compatible upstreams: what Anthropic's clients send becomes the chat request an OpenAI
upstream understands, its answer becomes the message Anthropic's clients read, and malformed
requests get clear 400s before anything is held or called."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from modelsnest.errors import InvalidRequest
from modelsnest.gateway.messages import AnthropicSurface
from modelsnest.gateway.messages_format import (
    anthropic_usage,
    parse_messages_request,
    to_chat_body,
    to_message,
)
from modelsnest.providers.tokens import estimate_prompt_tokens
from modelsnest.providers.types import ChatChunk, Usage


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}], **fields}


def parse(value: dict[str, Any], beta: str | None = None) -> Any:
    return parse_messages_request(orjson.dumps(value), beta)


def test_system_blocks_become_one_system_message_without_cache_control() -> None:
    chat = to_chat_body(
        body(
            system=[
                {"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Be brief."},
            ]
        )
    )
    assert chat["messages"] == [
        {"role": "system", "content": "You are Claude Code.\nBe brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert chat["max_tokens"] == 64 and chat["model"] == "m"


def test_tool_use_and_tool_results_become_tool_calls_and_tool_messages() -> None:
    chat = to_chat_body(
        body(
            messages=[
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "Two cities.", "signature": "sig"},
                        {"type": "text", "text": "Checking."},
                        {"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Paris"}},
                        {"type": "tool_use", "id": "t2", "name": "weather", "input": {"city": "Rome"}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "t1",
                            "content": [{"type": "text", "text": "sunny"}],
                        },
                        {"type": "tool_result", "tool_use_id": "t2", "content": "no data", "is_error": True},
                        {"type": "text", "text": "And tomorrow?"},
                    ],
                },
            ]
        )
    )
    assert chat["messages"][1:] == [
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "t1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "t2",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Rome"}'},
                },
            ],
            "reasoning_content": "Two cities.",
        },
        {"role": "tool", "tool_call_id": "t1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "t2", "content": "Error: no data"},
        {"role": "user", "content": "And tomorrow?"},
    ]


def test_tools_and_tool_choice_are_translated() -> None:
    tool = {"name": "weather", "description": "Weather.", "input_schema": {"type": "object"}}
    server_tool = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
    chat = to_chat_body(
        body(tools=[tool, server_tool], tool_choice={"type": "any", "disable_parallel_tool_use": True})
    )
    assert chat["tools"] == [
        {
            "type": "function",
            "function": {"name": "weather", "parameters": {"type": "object"}, "description": "Weather."},
        }
    ]
    assert (chat["tool_choice"], chat["parallel_tool_calls"]) == ("required", False)
    named = to_chat_body(body(tools=[tool], tool_choice={"type": "tool", "name": "weather"}))
    assert named["tool_choice"] == {"type": "function", "function": {"name": "weather"}}
    assert "tool_choice" not in to_chat_body(body(tool_choice={"type": "auto"}))  # no tools, no choice


def test_sampling_stops_and_the_user_are_passed_on() -> None:
    chat = to_chat_body(
        body(temperature=0.5, top_p=0.9, top_k=40, stop_sequences=["END"], metadata={"user_id": "u1"})
    )
    assert {k: chat[k] for k in ("temperature", "top_p", "stop", "user")} == {
        "temperature": 0.5,
        "top_p": 0.9,
        "stop": ["END"],
        "user": "u1",
    }
    assert "top_k" not in chat  # Anthropic's only: OpenAI rejects it


def test_images_become_image_url_parts() -> None:
    chat = to_chat_body(
        body(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
                        },
                        {"type": "text", "text": "What is it?"},
                    ],
                }
            ]
        )
    )
    assert chat["messages"][0]["content"] == [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        {"type": "text", "text": "What is it?"},
    ]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"max_tokens": None}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "system", "content": "x"}]}, "messages.0.role"),
        ({"messages": [{"role": "user", "content": [{"type": "tool_use"}]}]}, "messages.0.content.0"),
        ({"messages": [{"role": "user", "content": [{"type": {}}]}]}, "messages.0.content.0"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]},
            "messages.0.content.0.source",
        ),
        ({"temperature": 1.5}, "temperature"),
        ({"stream": "yes"}, "stream"),
        ({"stop_sequences": "END"}, "stop_sequences"),
        ({"tools": [{"name": "t"}]}, "tools.0.input_schema"),
        ({"tool_choice": {"type": "sometimes"}}, "tool_choice"),
        ({"system": [{"type": "image"}]}, "system.0"),
    ],
)
def test_malformed_requests_are_clear_400s(fields: dict[str, Any], param: str) -> None:
    value = {k: v for k, v in body(**fields).items() if v is not None}
    with pytest.raises(InvalidRequest) as error:
        parse(value)
    assert error.value.param == param


def test_a_request_is_parsed_with_its_estimate_and_beta_flags() -> None:
    request = parse(body(stream=True), " claude-code-20250219, interleaved-thinking-2025-05-14 ,")
    assert (request.model, request.stream, request.max_tokens) == ("m", True, 64)
    assert request.beta == ("claude-code-20250219", "interleaved-thinking-2025-05-14")
    assert request.prompt_estimate == estimate_prompt_tokens([{"role": "user", "content": "Hi"}])
    counting = parse_messages_request(
        orjson.dumps({"model": "m", "messages": body()["messages"]}), counting=True
    )
    assert counting.prompt_estimate == request.prompt_estimate  # count_tokens needs no max_tokens


@pytest.mark.parametrize(
    ("finish", "stop_reason"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("content_filter", "refusal"),
    ],
)
def test_finish_reasons_become_stop_reasons(finish: str, stop_reason: str) -> None:
    completion = {"id": "chatcmpl-1", "choices": [{"message": {"content": "x"}, "finish_reason": finish}]}
    assert to_message(completion, "m", Usage(3, 1), "req_1")["stop_reason"] == stop_reason


def test_an_answer_becomes_a_message_with_thinking_text_and_tool_use_blocks() -> None:
    completion = {
        "id": "chatcmpl-1",
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": "Checking.",
                    "reasoning_content": "Need the weather.",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                        },
                        {
                            "id": "c2",
                            "type": "function",
                            "function": {"name": "weather", "arguments": "not json"},
                        },
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    message = to_message(completion, "claude-sonnet-4", Usage(10, 5), "req_abc")
    assert message["id"] == "msg_req_abc" and message["model"] == "claude-sonnet-4"
    assert message["content"] == [
        {"type": "thinking", "thinking": "Need the weather.", "signature": ""},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "c1", "name": "weather", "input": {"city": "Oslo"}},
        {"type": "tool_use", "id": "c2", "name": "weather", "input": {"_raw_arguments": "not json"}},
    ]
    assert message["stop_reason"] == "tool_use"


def test_usage_excludes_cache_reads_and_writes_from_input_tokens() -> None:
    usage = Usage(5_000, 3, cached_tokens=3_000, cache_write_tokens=1_500, cache_write_1h_tokens=500)
    assert anthropic_usage(usage) == {
        "input_tokens": 500,
        "cache_creation_input_tokens": 1_500,
        "cache_read_input_tokens": 3_000,
        "output_tokens": 3,
        "cache_creation": {"ephemeral_5m_input_tokens": 1_000, "ephemeral_1h_input_tokens": 500},
    }


def surface_events(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events an OpenAI chunk stream becomes (before the billed tail)."""
    surface = AnthropicSurface(None, "claude-x", "req_1", 7, native=False)  # type: ignore[arg-type]
    return [event.data for chunk in chunks for event in surface.chunk_events(ChatChunk(chunk))]  # type: ignore[misc]


def delta(**fields: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "choices": [{"index": 0, "delta": fields, "finish_reason": None}]}


def test_a_chunk_stream_becomes_blocks_in_order() -> None:
    events = surface_events(
        [
            delta(role="assistant", content=""),
            delta(reasoning_content="Hmm."),
            delta(content="Hi"),
            delta(tool_calls=[{"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a":'}}]),
            delta(tool_calls=[{"index": 0, "function": {"arguments": "1}"}}]),
            # An upstream that numbers no calls: a new id is a new call.
            delta(tool_calls=[{"id": "c2", "function": {"name": "g", "arguments": "{}"}}]),
        ]
    )
    assert [e["type"] for e in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
    ]
    assert events[0]["message"]["model"] == "claude-x" and events[0]["message"]["usage"]["input_tokens"] == 7
    assert events[2]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    assert [events[3]["delta"], events[4]["delta"]] == [
        {"type": "thinking_delta", "thinking": "Hmm."},
        {"type": "signature_delta", "signature": ""},
    ]
    assert events[7]["delta"] == {"type": "text_delta", "text": "Hi"}
    assert events[9]["content_block"] == {"type": "tool_use", "id": "c1", "name": "f", "input": {}}
    assert [events[10]["delta"]["partial_json"], events[11]["delta"]["partial_json"]] == ['{"a":', "1}"]
    assert (events[13]["index"], events[13]["content_block"]["id"]) == (3, "c2")
