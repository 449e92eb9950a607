"""``ContentLibrary``: every document parsed once, rendered on demand per base URL (and
cached), with the listings, feed, sitemap and ``llms.txt`` the public site serves.

Build one per process (``ContentLibrary.from_settings(settings)``) and keep it: files are
read and placeholders compiled at construction, so a broken edit fails at start-up. Pass
the public base URL of the request (``MODELSNEST_PUBLIC_URL`` when set) to every call; it
fills ``{{ base_url }}`` in examples and makes feed and sitemap links absolute.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import jinja2

from modelsnest.content import feeds
from modelsnest.content.landing import Landing, build_landing
from modelsnest.content.loader import Source, load_sources, load_yaml
from modelsnest.content.markdown import plain_text, render_markdown
from modelsnest.content.templating import (
    OperatorContext,
    compile_template,
    make_environment,
    normalize_base_url,
    render_template,
)
from modelsnest.content.types import (
    HELP_CATEGORIES,
    INDEX_SLUG,
    SECTIONS,
    ContentError,
    HelpCategory,
    Page,
    Post,
    Section,
    SitemapEntry,
    TocEntry,
    document_url,
)
from modelsnest.settings import Settings

WORDS_PER_MINUTE = 230
# A page gets a table of contents when it has at least this many h2 sections (or toc: true).
TOC_MIN_SECTIONS = 3
_TEXT_FIELDS = ("title", "description", "summary", "author")
_RENDER_CACHE_SIZE = 2048


@dataclass(frozen=True)
class _Body:
    html: str
    toc: tuple[TocEntry, ...]
    h2_count: int
    words: int


@dataclass(frozen=True)
class _Document:
    source: Source
    meta: Mapping[str, Any]  # front matter with its text fields' placeholders filled
    template: jinja2.Template


class ContentLibrary:
    def __init__(
        self,
        context: OperatorContext,
        sources: Mapping[tuple[Section, str], Source],
        landing: tuple[Any, str],
    ) -> None:
        self._context = context
        env = make_environment()
        self._docs: dict[tuple[Section, str], _Document] = {}
        for key, source in sources.items():
            meta = dict(source.meta)
            for name in _TEXT_FIELDS:
                if name in meta:
                    field_template = compile_template(env, meta[name], f"{source.origin} ({name})")
                    meta[name] = render_template(field_template, context.values, f"{source.origin} ({name})")
            self._docs[key] = _Document(
                source=source,
                meta=MappingProxyType(meta),
                template=compile_template(env, source.body, source.origin),
            )
        self._landing_data, self._landing_origin = landing
        self._env = env
        self._render = lru_cache(maxsize=_RENDER_CACHE_SIZE)(self._render_body)
        self._landing = lru_cache(maxsize=16)(self._build_landing)

    @classmethod
    def from_settings(cls, settings: Settings) -> ContentLibrary:
        override = settings.content_dir
        return cls(
            OperatorContext.from_settings(settings),
            load_sources(override),
            load_yaml("landing.yaml", override),
        )

    # -- rendering ---------------------------------------------------------------------------

    def _render_body(self, key: tuple[Section, str], base_url: str) -> _Body:
        doc = self._docs[key]
        markdown = render_template(doc.template, self._context.with_base_url(base_url), doc.source.origin)
        rendered = render_markdown(markdown)
        words = len(plain_text(rendered.html).split())
        return _Body(rendered.html, rendered.toc, rendered.h2_count, words)

    def _toc(self, doc: _Document, body: _Body) -> tuple[TocEntry, ...]:
        wanted = doc.meta.get("toc", body.h2_count >= TOC_MIN_SECTIONS)
        return body.toc if wanted else ()

    def _page(self, doc: _Document, base_url: str) -> Page:
        source, meta = doc.source, doc.meta
        body = self._render((source.section, source.slug), base_url)
        return Page(
            slug=source.slug,
            section=source.section,
            title=meta["title"],
            description=meta["description"],
            html=body.html,
            toc=self._toc(doc, body),
            updated=meta.get("updated"),
            url=document_url(source.section, source.slug),
            order=meta.get("order", 100),
            category=meta.get("category"),
            draft=source.draft,
            front_matter=meta,
        )

    def _post(self, doc: _Document, base_url: str) -> Post:
        source, meta = doc.source, doc.meta
        body = self._render((source.section, source.slug), base_url)
        return Post(
            slug=source.slug,
            title=meta["title"],
            summary=meta["summary"],
            author=meta["author"],
            date=meta["date"],
            tags=tuple(meta["tags"]),
            html=body.html,
            reading_minutes=max(1, math.ceil(body.words / WORDS_PER_MINUTE)),
            url=document_url("blog", source.slug),
            description=meta["description"],
            toc=self._toc(doc, body),
            updated=meta.get("updated"),
            draft=source.draft,
            front_matter=meta,
        )

    def _visible(self, section: Section, include_drafts: bool) -> Iterator[_Document]:
        for (doc_section, slug), doc in self._docs.items():
            if doc_section == section and slug != INDEX_SLUG and (include_drafts or not doc.source.draft):
                yield doc

    # -- documents ---------------------------------------------------------------------------

    def list_section(self, section: Section, *, base_url: str, include_drafts: bool = False) -> list[Page]:
        """A section's documents (not its index, not drafts) by ``order`` then title."""
        if section == "blog":
            raise ValueError("the blog is listed with list_posts()")
        base = normalize_base_url(base_url)
        pages = [self._page(doc, base) for doc in self._visible(section, include_drafts)]
        return sorted(pages, key=lambda p: (p.order, p.title.lower()))

    def get_page(
        self, section: Section, slug: str, *, base_url: str, include_drafts: bool = False
    ) -> Page | None:
        """One document (``slug`` ``"index"`` is the section's landing text); ``None`` when it
        does not exist or is a draft (the site answers 404)."""
        doc = self._docs.get((section, slug))
        if doc is None or (section == "blog" and slug != INDEX_SLUG):
            return None
        if doc.source.draft and not include_drafts:
            return None
        return self._page(doc, normalize_base_url(base_url))

    def list_posts(
        self, *, base_url: str, tag: str | None = None, include_drafts: bool = False
    ) -> list[Post]:
        """Blog posts, newest first (optionally only those with ``tag``)."""
        base = normalize_base_url(base_url)
        posts = [self._post(doc, base) for doc in self._visible("blog", include_drafts)]
        if tag is not None:
            posts = [p for p in posts if tag in p.tags]
        return sorted(posts, key=lambda p: (p.date, p.slug), reverse=True)

    def get_post(self, slug: str, *, base_url: str, include_drafts: bool = False) -> Post | None:
        doc = self._docs.get(("blog", slug))
        if doc is None or slug == INDEX_SLUG or (doc.source.draft and not include_drafts):
            return None
        return self._post(doc, normalize_base_url(base_url))

    def help_categories(self, *, base_url: str) -> list[HelpCategory]:
        """The help centre: each category (in display order) with its articles."""
        articles = self.list_section("help", base_url=base_url)
        return [
            HelpCategory(slug, title, tuple(a for a in articles if a.category == slug))
            for slug, title in HELP_CATEGORIES.items()
            if any(a.category == slug for a in articles)
        ]

    def landing(self, *, base_url: str) -> Landing:
        """The landing page's copy, sections in display order."""
        return self._landing(normalize_base_url(base_url))

    def _build_landing(self, base_url: str) -> Landing:
        context = self._context.with_base_url(base_url)
        return build_landing(self._landing_data, self._env, context, self._landing_origin)

    # -- feeds -------------------------------------------------------------------------------

    def rss(self, *, base_url: str) -> bytes:
        """RSS 2.0 of the blog with absolute links (serve as ``application/rss+xml``)."""
        base = normalize_base_url(base_url)
        return feeds.rss(self.list_posts(base_url=base), base, self._context.values["company_name"])

    def sitemap(self, *, base_url: str) -> list[SitemapEntry]:
        """Every public URL the content provides: ``/``, each section's index, every page,
        post, tutorial, help article, SDK guide and reference page (drafts excluded). Model
        pages come from the catalog and are the site's to add."""
        base = normalize_base_url(base_url)
        entries = [SitemapEntry(f"{base}/")]
        for section in SECTIONS:
            if section != "pages":
                index = self._docs.get((section, INDEX_SLUG))
                entries.append(SitemapEntry(base + document_url(section, INDEX_SLUG), _lastmod(index)))
            entries.extend(
                SitemapEntry(base + document_url(section, doc.source.slug), _lastmod(doc))
                for doc in sorted(self._visible(section, False), key=lambda d: d.source.slug)
            )
        return entries

    def llms_txt(self, *, base_url: str) -> str:
        """``/llms.txt``: a Markdown index of the docs for AI agents (llmstxt.org)."""
        base = normalize_base_url(base_url)
        pages: dict[Section, Sequence[Page]] = {
            s: self.list_section(s, base_url=base) for s in SECTIONS if s != "blog"
        }
        docs_home = self.get_page("pages", "docs", base_url=base)
        return feeds.llms_txt(self._context.values["company_name"], base, docs_home, pages)

    # -- checks ------------------------------------------------------------------------------

    def documents(self, *, base_url: str, include_drafts: bool = True) -> list[Page | Post]:
        """Every document rendered (index pages included): for tests and ``validate``."""
        base = normalize_base_url(base_url)
        out: list[Page | Post] = []
        for (section, slug), doc in sorted(self._docs.items()):
            if doc.source.draft and not include_drafts:
                continue
            if section == "blog" and slug != INDEX_SLUG:
                out.append(self._post(doc, base))
            else:
                out.append(self._page(doc, base))
        return out

    def validate(self, base_url: str = "https://example.com") -> int:
        """Render everything once; raises ``ContentError`` on the first broken file. Returns
        how many documents rendered."""
        count = len(self.documents(base_url=base_url))
        self.landing(base_url=base_url)
        return count


def _lastmod(doc: _Document | None) -> date | None:
    if doc is None:
        return None
    value = doc.meta.get("updated") or doc.meta.get("date")
    return value if isinstance(value, date) else None


__all__ = ["ContentError", "ContentLibrary"]
