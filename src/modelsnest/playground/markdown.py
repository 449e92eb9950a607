"""A model's answer as safe HTML: Markdown (CommonMark, tables, strikethrough, fenced code
with a ``language-…`` class) with raw HTML *not* interpreted (it shows as text), then the
content package's nh3 allow-list. Model output is untrusted input."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt

from modelsnest.content.markdown import sanitize


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    return md


def render_answer(text: str) -> str:
    """``text`` (Markdown from a model) as sanitised HTML."""
    if not text.strip():
        return ""
    return sanitize(_parser().render(text))
