"""The blog's RSS 2.0 feed (feedgen) and ``llms.txt`` (the llmstxt.org convention: an H1
title, a blockquote summary, then H2 sections of ``- [title](url): description`` links)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time

from modelsnest.content.types import Page, Post, Section

FEED_PATH = "/blog/rss.xml"
LLMS_TXT_PATH = "/llms.txt"
# Sections of llms.txt, in order: (content section, heading). Help comes last, as "Optional"
# material agents may skip when their context is short.
_LLMS_SECTIONS: tuple[tuple[Section, str], ...] = (
    ("reference", "API reference"),
    ("sdks", "SDKs"),
    ("tutorials", "Tutorials"),
    ("pages", "Company and legal"),
    ("help", "Optional"),
)


def rss(posts: Sequence[Post], base_url: str, company_name: str) -> bytes:
    """RSS 2.0 with absolute links, newest post first, an atom:link to itself, and each
    post's author as ``dc:creator`` (RSS's own ``author`` must be an e-mail address)."""
    # Imported here: feedgen brings lxml (5 MB per worker) for a feed readers fetch now and then.
    from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

    feed = FeedGenerator()
    feed.load_extension("dc")
    feed.title(f"{company_name} blog")
    # feedgen writes the last link given as the channel's <link>: the blog page, not the feed.
    feed.link(href=f"{base_url}{FEED_PATH}", rel="self")
    feed.link(href=f"{base_url}/blog", rel="alternate")
    feed.description(f"Engineering notes and product news from {company_name}.")
    feed.language("en")
    feed.generator(company_name)
    if posts:
        feed.lastBuildDate(_published(max(posts, key=lambda p: p.date)))
    for post in posts:  # already newest first; append keeps that order
        url = f"{base_url}{post.url}"
        entry = feed.add_entry(order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(post.title)
        entry.link(href=url)
        entry.description(post.summary)
        entry.pubDate(_published(post))
        entry.dc.dc_creator(post.author)
        for tag in post.tags:
            entry.category(term=tag)
    data: bytes = feed.rss_str(pretty=True)
    return data


def _published(post: Post) -> datetime:
    # Posts carry a day, not a time: publish them at 09:00 UTC of that day.
    return datetime.combine(post.date, time(9, 0), tzinfo=UTC)


def _link(page: Page, base_url: str) -> str:
    return f"- [{page.title}]({base_url}{page.url}): {page.description}"


def llms_txt(
    company_name: str, base_url: str, docs_home: Page | None, pages: Mapping[Section, Sequence[Page]]
) -> str:
    summary = (
        docs_home.description
        if docs_home is not None
        else f"{company_name}: one OpenAI-compatible API for many AI models, billed from prepaid credits."
    )
    lines = [f"# {company_name}", "", f"> {summary}", ""]
    lines += [
        f'The API is OpenAI-compatible: use any OpenAI SDK with `base_url="{base_url}/api/v1"` and a '
        "`ptr_…` API key. Every successful response adds `usage.cost` and a `billing` object "
        "(exact USD); errors use the OpenAI error shape and never cost credits. "
        f"`GET {base_url}/api/v1/models` lists every model with its price.",
        "",
        "## Docs",
        "",
    ]
    if docs_home is not None:
        lines.append(_link(docs_home, base_url))
    for section, heading in _LLMS_SECTIONS:
        entries = [p for p in pages.get(section, ()) if not (section == "pages" and p.slug == "docs")]
        if not entries:
            continue
        lines += ["", f"## {heading}", ""]
        lines += [_link(p, base_url) for p in entries]
    return "\n".join(lines) + "\n"
