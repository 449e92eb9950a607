"""Markdown to safe HTML: markdown-it-py (CommonMark + tables + strikethrough, heading ids,
fenced code with a ``language-…`` class), then nh3 (the Ammonia sanitiser) with an explicit
allow-list. Raw HTML in the Markdown is allowed through the parser and cleaned by nh3, so an
operator can use ``<details>`` or ``<kbd>`` but never a script, an event handler or a
``javascript:`` URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin

from modelsnest.content.types import TocEntry

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "mark", "ol", "p",
    "pre", "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "abbr": {"title"},
    "code": {"class"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"style"},
    "th": {"style"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
_LANGUAGE_CLASS = re.compile(r"^language-[A-Za-z0-9_+\-]{1,32}$")
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,100}$")
_URL_SCHEMES = {"http", "https", "mailto"}


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Classes only where the renderer puts them; ids only as plain slugs."""
    if attribute == "class":
        if tag == "code":
            return value if _LANGUAGE_CLASS.match(value) else None
        return value if (tag, value) == ("a", "header-anchor") else None
    if attribute == "id":
        return value if _ID.match(value) else None
    return value


def sanitize(html: str) -> str:
    """The allow-list clean every rendered document goes through."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes=_URL_SCHEMES,
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": True, "linkify": False})
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(anchors_plugin, min_level=2, max_level=4, permalink=True, permalinkSymbol="#")
    return md


@cache
def _inline_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": True})
    md.enable(["strikethrough", "replacements", "smartquotes"])
    return md


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    toc: tuple[TocEntry, ...]
    h2_count: int


def _heading_text(inline: Token) -> str:
    """The heading's visible text without the permalink the anchors plugin appended."""
    parts: list[str] = []
    skipping = False
    for child in inline.children or []:
        if child.type == "link_open" and child.attrGet("class") == "header-anchor":
            skipping = True
        elif child.type == "link_close" and skipping:
            skipping = False
        elif not skipping and child.type in ("text", "code_inline"):
            parts.append(child.content)
    return "".join(parts).strip()


def render_markdown(source: str) -> Rendered:
    """Block Markdown to sanitised HTML, with the h2/h3 headings as a table of contents."""
    md = _parser()
    tokens = md.parse(source)
    toc: list[TocEntry] = []
    h2_count = 0
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or token.tag not in ("h2", "h3"):
            continue
        level = int(token.tag[1])
        h2_count += level == 2
        anchor = token.attrGet("id")
        if anchor:
            toc.append(TocEntry(level, str(anchor), _heading_text(tokens[index + 1])))
    html = md.renderer.render(tokens, md.options, {})
    return Rendered(sanitize(html), tuple(toc), h2_count)


def render_inline(source: str) -> str:
    """One paragraph's worth of Markdown (emphasis, code, links) as sanitised inline HTML."""
    return sanitize(_inline_parser().renderInline(source.strip()))


_TAG = re.compile(r"<[^>]+>")


def plain_text(html: str) -> str:
    """The visible words of sanitised HTML (for reading time and search snippets)."""
    return re.sub(r"\s+", " ", _TAG.sub(" ", html)).strip()
