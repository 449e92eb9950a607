"""The playground's pure parts: a question read from the form, and a model's answer as
safe HTML (model output is untrusted: Markdown yes, raw HTML never)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modelsnest.errors import InvalidRequest
from modelsnest.playground import parse_ask, render_answer


def test_markdown_and_code_blocks_render_and_raw_html_shows_as_text() -> None:
    html = render_answer(
        "# Title\n\nSome *emphasis*, a [link](https://example.com) and a table:\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```js\nconsole.log('<b>')\n```\n\n"
        '<script>alert(1)</script> <a href="javascript:alert(1)">x</a> [bad](javascript:alert(2))'
    )
    assert "<h1>Title</h1>" in html and "<em>emphasis</em>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer">link</a>' in html
    assert "<table>" in html and '<code class="language-js">' in html and "&lt;b&gt;" in html
    assert (
        "<script" not in html
        and '<a href="javascript' not in html
        and "<a href" not in html.split("</pre>")[-1]
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert render_answer("   ") == ""


def test_a_question_is_read_from_the_form() -> None:
    ask = parse_ask(
        {
            "model": " deepseek ",
            "message": " Hi ",
            "system": "",
            "temperature": "0.3",
            "max_tokens": "64",
            "conversation_id": "12",
        }
    )
    assert (ask.model, ask.message, ask.system, ask.temperature, ask.max_tokens) == (
        "deepseek",
        "Hi",
        None,
        Decimal("0.3"),
        64,
    )
    assert ask.conversation_id == 12 and ask.save
    compare = parse_ask({"model": "deepseek", "message": "Hi", "conversation_id": "12", "mode": "compare"})
    assert compare.conversation_id is None and not compare.save


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"model": ""}, "model"),
        ({"message": ""}, "message"),
        ({"message": "x" * 20_001}, "message"),
        ({"system": "x" * 10_001}, "system"),
        ({"temperature": "2.5"}, "temperature"),
        ({"temperature": "-1"}, "temperature"),
        ({"temperature": "NaN"}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": "0"}, "max_tokens"),
        ({"max_tokens": "32001"}, "max_tokens"),
        ({"max_tokens": "1.5"}, "max_tokens"),
        ({"conversation_id": "abc"}, "conversation_id"),
    ],
)
def test_a_bad_field_is_named(fields: dict[str, str], param: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_ask({"model": "deepseek", "message": "Hi", **fields})
    assert raised.value.param == param
