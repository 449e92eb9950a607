"""The docs sandbox: operator-edited rows render placeholders and nothing else — no way out
of the sandbox, no code execution, no unbounded output, and every failure a clear error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelsnest.catalog.docs_jinja import MAX_SOURCE_CHARS, DocsSandbox, escape_jinja, render_docs_template
from modelsnest.errors import DocsTemplateError

ENV = DocsSandbox()
CONTEXT: dict[str, Any] = {"base_url": "http://127.0.0.1:8000/api/v1", "n": 3, "cost": lambda *q: str(sum(q))}


def render(source: str) -> str:
    return render_docs_template(ENV, source, CONTEXT, "The docs of 'm' (step 1 body)")


def test_placeholders_conditions_filters_and_calls_render() -> None:
    assert (
        render("curl {{ base_url }}/chat/completions") == "curl http://127.0.0.1:8000/api/v1/chat/completions"
    )
    assert render("{% if n > 2 %}many{% else %}few{% endif %}") == "many"
    assert render("{{ 'a\nb' | indent(2) }}|{{ base_url | upper }}") == "a\n  b|HTTP://127.0.0.1:8000/API/V1"
    assert render("{{ cost(31, 58) }} {{ n * 2 }}") == "89 6"
    assert render("no placeholders {single} braces\n") == "no placeholders {single} braces\n"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("{{ api_key }}", "'api_key' is undefined"),
        ("{{ base_url ", "unexpected end of template"),
        ("{{ base_url | urlencode }}", "No filter named 'urlencode'"),
        ("{{ cost(1, 2) | indent(99999999) }}", "indent takes a width"),
    ],
)
def test_mistakes_are_clear_errors(source: str, reason: str) -> None:
    with pytest.raises(DocsTemplateError) as info:
        render(source)
    error = info.value
    assert (error.status, error.code) == (422, "INVALID_DOCS_TEMPLATE")
    assert error.message.startswith("The docs of 'm' (step 1 body): ")
    assert reason in error.message


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cost.__globals__ }}",
        "{{ cost['__globals__'] }}",
        "{{ base_url.upper() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ lipsum(100000) }}",
        "{{ range(10) }}",
        "{% for c in base_url %}{% for d in base_url %}{{ base_url }}{% endfor %}{% endfor %}",
        "{% set x = 1 %}{{ x }}",
        "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
        "{% include 'x' %}",
        "{{ 'x' * 1000000000 }}",
        "{{ '%1000000000s' % 'x' }}",
        "{{ 10 ** 100000000 }}",
    ],
)
def test_anything_beyond_placeholders_is_refused(source: str) -> None:
    with pytest.raises(DocsTemplateError, match=r"^The docs of 'm' \(step 1 body\): "):
        render(source)


def test_no_code_runs(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    attempts = [
        f"{{{{ ''.__class__.__mro__[1].__subclasses__()[0].__init__.__globals__['__builtins__']"
        f"['open']('{target}', 'w') }}}}",
        f"{{{{ cost.__globals__['__builtins__'].open('{target}', 'w') }}}}",
        f"{{{{ joiner.__init__.__globals__.__builtins__.open('{target}', 'w') }}}}",
    ]
    for source in attempts:
        with pytest.raises(DocsTemplateError):
            render(source)
    assert not target.exists()


def test_size_limits() -> None:
    with pytest.raises(DocsTemplateError, match="longer than"):
        render("x" * (MAX_SOURCE_CHARS + 1))
    with pytest.raises(DocsTemplateError, match="renders to more than"):
        render_docs_template(ENV, "{{ page }}" * 300, {"page": "x" * 1000}, "The docs of 'm' (step 1 body)")


@given(st.text())
def test_escaped_text_renders_to_itself(text: str) -> None:
    # Jinja writes every line ending as "\n" (a textarea's "\r\n" included).
    assert render(escape_jinja(text)) == text.replace("\r\n", "\n").replace("\r", "\n")
