"""Rendering and sanitising: what an operator (or a hostile edit) writes in Markdown can never
become script in a page."""

from __future__ import annotations

import re

from modelsnest.content.markdown import render_inline, render_markdown, sanitize

HOSTILE = """
## Welcome <img src=x onerror="alert(1)">

<script>alert('classic')</script>
<SCRIPT SRC=//evil.example/x.js></SCRIPT>
<iframe src="https://evil.example"></iframe>
<style>body { display: none }</style>
<svg onload="alert(2)"><circle r="1"/></svg>
<a href="javascript:alert(3)">click</a>
<a href="JaVaScRiPt:alert(4)">click</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==">data</a>
<a href="https://ok.example" onclick="steal()" onmouseover="steal()">fine link</a>
<p style="background:url(javascript:alert(6))" class="evil">styled</p>
<form action="https://evil.example"><input name="password"></form>
<object data="x.swf"></object>
<div onpointerenter="alert(7)">hover</div>

[markdown link](javascript:alert(8))
![markdown image](javascript:alert(9))

```python" onmouseover="alert(10)
print("x")
```
"""


def _tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z0-9]+)", html)}


def test_scripts_event_handlers_and_javascript_urls_are_stripped() -> None:
    html = render_markdown(HOSTILE).html
    lowered = html.lower()
    assert "<script" not in lowered
    attributes = re.findall(r'[a-z-]+="([^"]*)"', lowered)
    assert not [a for a in attributes if "javascript:" in a or a.startswith("data:")]
    # A refused Markdown link stays visible as plain text, which is harmless.
    assert "[markdown link](javascript:alert(8))" in html
    assert not re.search(r"\son[a-z]+\s*=", lowered), "an event handler survived"
    assert "style=" not in lowered and "<style" not in lowered
    assert _tags(html).isdisjoint({"script", "iframe", "style", "svg", "form", "input", "object"})
    assert "evil.example" not in html
    # What is harmless survives: the text, and the safe link with its href.
    assert '<a href="https://ok.example" rel="noopener noreferrer">fine link</a>' in html
    assert "Welcome" in html and "hover" in html


def test_a_code_class_cannot_smuggle_attributes() -> None:
    html = render_markdown('```python" onmouseover="x\nprint(1)\n```\n').html
    assert "onmouseover" not in html
    assert "<pre><code>" in html or 'class="language-python' not in html.replace('"language-python"', "")


def test_allowed_html_and_markdown_features_survive() -> None:
    source = (
        "## Keys and limits\n\n"
        "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>.\n\n"
        "<details><summary>More</summary>Hidden text</details>\n\n"
        "| Right | Left |\n|--:|:--|\n| 1 | a |\n\n"
        "```bash\necho hi\n```\n\n"
        "~~old~~ and [docs](/docs) and [mail](mailto:a@b.test)\n"
    )
    html = render_markdown(source).html
    assert '<h2 id="keys-and-limits">' in html
    assert '<a class="header-anchor" href="#keys-and-limits"' in html
    assert "<kbd>Ctrl</kbd>" in html and "<details><summary>More</summary>" in html
    assert '<th style="text-align:right">Right</th>' in html
    assert '<code class="language-bash">echo hi' in html
    assert "<del>old</del>" in html or "<s>old</s>" in html
    assert 'href="/docs"' in html and 'href="mailto:a@b.test"' in html


def test_the_table_of_contents_lists_h2_and_h3_as_plain_text() -> None:
    rendered = render_markdown(
        "## Using `billing`\n\ntext\n\n### Exact *sums*\n\n#### Too deep\n\n## Using `billing`\n"
    )
    assert [(e.level, e.id, e.title) for e in rendered.toc] == [
        (2, "using-billing", "Using billing"),
        (3, "exact-sums", "Exact sums"),
        (2, "using-billing-1", "Using billing"),
    ]
    assert rendered.h2_count == 2


def test_inline_markdown_escapes_raw_html() -> None:
    html = render_inline("**Bold** `code` <script>alert(1)</script> [x](javascript:alert(1))")
    assert html.startswith("<strong>Bold</strong> <code>code</code>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "href=" not in html


def test_sanitize_is_idempotent_on_its_own_output() -> None:
    html = render_markdown(HOSTILE).html
    assert sanitize(html) == html
