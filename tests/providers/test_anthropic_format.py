"""OpenAI ⇄ Anthropic translation, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from modelsnest.providers.anthropic_format import (
    error_from_event,
    to_chat_completion,
    to_messages_request,
    usage_from_anthropic,
)
from modelsnest.providers.errors import (
    ProviderBadRequest,
    ProviderRateLimited,
    ProviderServerError,
    ProviderUnsupported,
)

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather now",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def translate(**request: Any) -> dict[str, Any]:
    request.setdefault("messages", [{"role": "user", "content": "Hi"}])
    return to_messages_request(request, "claude-x", 4096)


def test_system_messages_are_hoisted_and_defaults_applied() -> None:
    body = translate(
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi"},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
        ]
    )
    assert body == {
        "model": "claude-x",
        "max_tokens": 4096,
        "system": "You are terse.\nAnswer in French.",
        "messages": [{"role": "user", "content": "Hi"}],
    }


def test_sampling_parameters() -> None:
    body = translate(
        max_completion_tokens=50,
        max_tokens=99,
        stop="END",
        temperature=1.7,
        top_p=0.9,
        top_k=5,
        user="u-1",
        seed=3,
        logit_bias={"1": 2},
        presence_penalty=0.5,
        response_format={"type": "json_object"},
    )
    assert body["max_tokens"] == 50
    assert body["stop_sequences"] == ["END"]
    assert body["temperature"] == 1.0
    assert (body["top_p"], body["top_k"]) == (0.9, 5)
    assert body["metadata"] == {"user_id": "u-1"}
    for ignored in ("seed", "logit_bias", "presence_penalty", "response_format", "n"):
        assert ignored not in body
    assert translate(max_tokens=7, stop=["a", "b"])["stop_sequences"] == ["a", "b"]
    assert translate(max_tokens=7)["max_tokens"] == 7


def test_multipart_and_images() -> None:
    content = [
        {"type": "text", "text": "Compare"},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
        {"type": "text", "text": ""},
    ]
    body = translate(messages=[{"role": "user", "content": content}])
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "Compare"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
    ]
    with pytest.raises(ProviderBadRequest):
        translate(
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}]
        )
    with pytest.raises(ProviderUnsupported):
        translate(messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}])


def test_tools_and_tool_choice() -> None:
    body = translate(tools=TOOLS)
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather now",
            "input_schema": TOOLS[0]["function"]["parameters"],
        }
    ]
    assert "tool_choice" not in body
    assert translate(tools=TOOLS, tool_choice="auto")["tool_choice"] == {"type": "auto"}
    assert translate(tools=TOOLS, tool_choice="none")["tool_choice"] == {"type": "none"}
    assert translate(tools=TOOLS, tool_choice="required")["tool_choice"] == {"type": "any"}
    named = {"type": "function", "function": {"name": "get_weather"}}
    assert translate(tools=TOOLS, tool_choice=named)["tool_choice"] == {"type": "tool", "name": "get_weather"}
    assert translate(tools=TOOLS, parallel_tool_calls=False)["tool_choice"] == {
        "type": "auto",
        "disable_parallel_tool_use": True,
    }
    with pytest.raises(ProviderBadRequest):
        translate(tools=TOOLS, tool_choice="sometimes")


def test_tool_calls_and_results_are_translated_and_merged() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "25C"}]},
        {"role": "user", "content": "Thanks, which is warmer?"},
    ]
    body = translate(messages=messages)
    assert body["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "get_weather", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_2",
                    "content": [{"type": "text", "text": "25C"}],
                },
                {"type": "text", "text": "Thanks, which is warmer?"},
            ],
        },
    ]
    bad = [{"role": "assistant", "tool_calls": [{"id": "x", "function": {"name": "f", "arguments": "[1]"}}]}]
    with pytest.raises(ProviderBadRequest):
        translate(messages=bad)


def test_invalid_requests() -> None:
    with pytest.raises(ProviderBadRequest):
        translate(messages=[])
    with pytest.raises(ProviderBadRequest):
        translate(messages=[{"role": "wizard", "content": "x"}])
    with pytest.raises(ProviderUnsupported):
        translate(n=2)


def test_response_translation() -> None:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 7,
            "cache_creation_input_tokens": 2,
            "cache_read_input_tokens": 5,
        },
    }
    body = to_chat_completion(message, 1700000000)
    choice = body["choices"][0]
    assert body["id"] == "msg_1" and body["object"] == "chat.completion" and body["created"] == 1700000000
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me check."
    assert choice["message"]["reasoning_content"] == "hmm"
    assert choice["message"]["tool_calls"] == [
        {
            "id": "toolu_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }
    ]
    assert body["usage"] == {
        "prompt_tokens": 17,
        "completion_tokens": 7,
        "total_tokens": 24,
        "prompt_tokens_details": {"cached_tokens": 5, "cache_write_tokens": 2},
    }
    usage = usage_from_anthropic(message["usage"])
    # Anthropic's input_tokens excludes cache reads and writes; prompt_tokens includes them.
    assert (usage.prompt_tokens, usage.completion_tokens) == (17, 7)
    assert (usage.cached_tokens, usage.cache_write_tokens, usage.cache_write_1h_tokens) == (5, 2, 0)


def test_usage_reads_the_one_hour_share_of_cache_writes() -> None:
    usage = usage_from_anthropic(
        {
            "input_tokens": 3,
            "output_tokens": 4,
            "cache_creation_input_tokens": 1000,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 600},
        }
    )
    assert (usage.prompt_tokens, usage.cache_write_tokens, usage.cache_write_1h_tokens) == (1003, 1000, 600)
    assert not usage_from_anthropic(None).reported


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        (None, "stop"),
    ],
)
def test_stop_reasons(stop_reason: str | None, finish_reason: str) -> None:
    message: dict[str, Any] = {
        "id": "m",
        "model": "c",
        "content": [],
        "stop_reason": stop_reason,
        "usage": {},
    }
    body = to_chat_completion(message, 0)
    assert body["choices"][0]["finish_reason"] == finish_reason
    if stop_reason != "tool_use":
        assert body["choices"][0]["message"]["content"] == ""


def test_error_events() -> None:
    assert isinstance(
        error_from_event({"type": "overloaded_error", "message": "Overloaded"}), ProviderServerError
    )
    assert error_from_event({"type": "overloaded_error", "message": "Overloaded"}).status == 529
    assert isinstance(error_from_event({"type": "rate_limit_error", "message": "slow"}), ProviderRateLimited)
    assert isinstance(
        error_from_event({"type": "invalid_request_error", "message": "bad"}), ProviderBadRequest
    )
    assert isinstance(error_from_event(None), ProviderServerError)
