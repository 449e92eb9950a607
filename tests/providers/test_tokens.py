from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from modelsnest.providers.tokens import (
    IMAGE_TOKENS,
    count_tokens,
    estimate_completion_tokens,
    estimate_prompt_tokens,
    message_text,
    split_tokens,
)


def test_english_tracks_cl100k() -> None:
    # cl100k_base: 10 tokens.
    assert count_tokens("The quick brown fox jumps over the lazy dog.") == 10
    # cl100k_base: 16 tokens ("Hello", ",", " world", "!", " How", ...); we stay within ~20 %.
    text = "Hello, world! How are you doing today? I'm fine, thanks."
    assert 13 <= count_tokens(text) <= 17


def test_rules() -> None:
    assert count_tokens("") == 0
    assert split_tokens("something") == ["some", "thing"]
    assert count_tokens("internationalization") == 4
    assert split_tokens("2024") == ["202", "4"]
    assert count_tokens("价格") == 2
    assert count_tokens("a\n\n\nb") == 3
    assert split_tokens("  hi") == [" ", " hi"]


def test_prose_ratio_is_plausible() -> None:
    text = (
        "Modelsnest is an AI API platform: one OpenAI-compatible API in front of many upstream "
        "providers, sold to developers as prepaid credits. Operators connect upstream providers, "
        "curate the model catalog and its prices, and read the ledger. "
    ) * 20
    chars_per_token = len(text) / count_tokens(text)
    assert 3.5 <= chars_per_token <= 5.5


@given(st.text())
def test_pieces_join_back_and_count(text: str) -> None:
    pieces = split_tokens(text)
    assert "".join(pieces) == text
    assert len(pieces) == count_tokens(text)
    # Each piece is one token on its own (the simulator relies on it).
    assert all(count_tokens(piece) == 1 for piece in pieces)


def test_prompt_estimate() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "look", "arguments": '{"a": 1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "a cat", "name": "look"},
    ]
    base = estimate_prompt_tokens(messages)
    assert base == (
        3  # reply priming
        + 4 * 3  # per message
        + count_tokens("Be brief.")
        + count_tokens("What is this?")
        + IMAGE_TOKENS
        + 3
        + count_tokens("look")
        + count_tokens('{"a": 1}')
        + count_tokens("a cat")
        + 1
        + count_tokens("look")
    )
    tools = [{"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}]
    assert estimate_prompt_tokens(messages, tools) > base


def test_completion_estimate_and_message_text() -> None:
    body = {"choices": [{"message": {"content": "Hello there"}}, {"message": {"content": "Hi"}}]}
    assert estimate_completion_tokens(body) == 3
    assert (
        message_text([{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}])
        == "a\nb"
    )
    assert message_text(None) == ""
