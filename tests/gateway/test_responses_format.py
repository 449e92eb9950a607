"""The Responses ⇄ chat translation itself (pure functions): input items to messages, tools
and options to chat parameters, a chat message to output items and back."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from modelsnest.errors import InvalidRequest
from modelsnest.gateway.responses_format import assistant_message, output_items, parse_responses_request


def parse(**body: object) -> dict[str, object]:
    return parse_responses_request(orjson.dumps({"model": "m", **body})).chat_body()


def test_items_become_chat_messages() -> None:
    body = parse(
        instructions="Sys",
        input=[
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Dev"}]},
            {
                "role": "user",
                "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}],
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Let me look."}],
            },
            {"type": "function_call", "call_id": "c1", "name": "ls", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "pwd", "arguments": "{}"},
            {"type": "reasoning", "summary": []},
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [{"type": "input_text", "text": "x"}],
            },
            {"type": "function_call_output", "call_id": "c2", "output": "/repo"},
        ],
    )
    assert body["messages"] == [
        {"role": "system", "content": "Sys"},
        {"role": "developer", "content": "Dev"},
        {"role": "user", "content": "ab"},
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{}"}},
                {"id": "c2", "type": "function", "function": {"name": "pwd", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "x"},
        {"role": "tool", "tool_call_id": "c2", "content": "/repo"},
    ]


def test_options_become_chat_parameters() -> None:
    body = parse(
        input="hi",
        tools=[{"type": "function", "name": "f", "strict": True}, {"type": "web_search"}],
        tool_choice={"type": "function", "name": "f"},
        parallel_tool_calls=False,
        max_output_tokens=50,
        temperature=0.5,
        top_p=0.9,
        reasoning={"effort": "low"},
        text={"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True}},
        user="u1",
    )
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "f", "parameters": {"type": "object", "properties": {}}, "strict": True},
        }
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert body["parallel_tool_calls"] is False and body["max_tokens"] == 50
    assert body["temperature"] == 0.5 and body["top_p"] == 0.9 and body["reasoning_effort"] == "low"
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": True},
    }
    assert body["user"] == "u1" and "store" not in body and "input" not in body


def test_a_chat_message_becomes_output_items_and_back() -> None:
    items = output_items(
        {
            "role": "assistant",
            "content": "Running it.",
            "reasoning_content": "The user wants a listing.",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}
            ],
        }
    )
    assert [item["type"] for item in items] == ["reasoning", "message", "function_call"]
    assert items[0]["content"] == [{"type": "reasoning_text", "text": "The user wants a listing."}]
    assert items[1]["content"][0]["text"] == "Running it."
    assert items[2]["call_id"] == "call_1" and items[2]["name"] == "ls"
    assert assistant_message(items) == {
        "role": "assistant",
        "content": "Running it.",
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}],
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
            "input[0].content[0]",
        ),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "input[0].type"),
        ({"input": "hi", "text": {"format": {"type": "xml"}}}, "text.format"),
        ({"input": "hi", "temperature": 3}, "temperature"),
        ({"input": "hi", "store": "yes"}, "store"),
        ({"input": "hi", "reasoning": {"effort": {}}}, "reasoning.effort"),
    ],
)
def test_unsupported_or_malformed_input_is_a_clear_400(body: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse(**body)
    assert refused.value.param == param


def _surface() -> Any:
    from modelsnest.auth.caller import Caller
    from modelsnest.catalog.types import ModelInfo, PriceInfo
    from modelsnest.gateway.admission import Admission
    from modelsnest.gateway.limits import LimitState
    from modelsnest.gateway.responses import ResponsesSurface

    price = PriceInfo("per_1k_tokens", 1_000_000, 2_000_000)
    model = ModelInfo(1, "m", "M", "Test", "text", "chat", "active", None, 8192, 1000, {}, {}, price, ())
    admission = Admission(Caller(1, "user"), model, price, "req_1", LimitState())
    request = parse_responses_request(orjson.dumps({"model": "m", "input": "hi", "stream": True}))
    return ResponsesSurface(admission, request, "resp_1", 1)


def test_a_streamed_reasoning_then_text_then_tool_call_is_three_items_in_order() -> None:
    from modelsnest.gateway.streaming import Outcome, Settled
    from modelsnest.providers.types import ChatChunk

    surface = _surface()

    def chunk(delta: dict[str, Any], finish: str | None = None) -> ChatChunk:
        return ChatChunk({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    events = []
    for delta in (
        {"role": "assistant", "reasoning_content": "Think"},
        {"reasoning_content": "ing."},
        {"content": "Let me run it."},
        {"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "ls", "arguments": ""}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]},
    ):
        events.extend(surface.chunk_events(chunk(delta)))
    events.extend(surface.chunk_events(chunk({}, "tool_calls")))
    events.extend(surface.tail_events(Outcome(), Settled(3000, 10, 5)))
    kinds = [e.event for e in events]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.data["sequence_number"] for e in events] == list(range(len(events)))
    final = events[-1].data["response"]
    assert [item["type"] for item in final["output"]] == ["reasoning", "message", "function_call"]
    assert final["output"][0]["content"] == [{"type": "reasoning_text", "text": "Thinking."}]
    assert [item["output_index"] for item in (e.data for e in events) if "output_index" in item][:1] == [0]
    assert final["usage"]["input_tokens"] == 10 and final["usage"]["output_tokens"] == 5
