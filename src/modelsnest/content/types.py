"""What the content service hands to the site: typed, already rendered and sanitised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Section = Literal["pages", "blog", "tutorials", "help", "sdks", "reference"]
SECTIONS: tuple[Section, ...] = ("pages", "blog", "tutorials", "help", "sdks", "reference")

# Where each section's documents live on the site. ``pages`` sit at the root (``/about``).
SECTION_PREFIX: Mapping[Section, str] = {
    "pages": "",
    "blog": "/blog",
    "tutorials": "/tutorials",
    "help": "/help",
    "sdks": "/sdks",
    "reference": "/reference",
}

# Help-centre categories, in the order the help index shows them.
HELP_CATEGORIES: Mapping[str, str] = {
    "account": "Account",
    "billing": "Billing & credits",
    "api-keys": "API keys",
    "errors": "Errors",
    "models": "Models",
    "privacy": "Privacy & data",
}

# The slug of a section's landing document (``sdks/index.md`` is ``/sdks``).
INDEX_SLUG = "index"


class ContentError(Exception):
    """A content file is malformed, names an unknown placeholder or tried to escape the
    sandbox. The message names the file and says what to fix."""


def document_url(section: Section, slug: str) -> str:
    prefix = SECTION_PREFIX[section]
    if slug == INDEX_SLUG:
        return prefix or "/"
    return f"{prefix}/{slug}"


@dataclass(frozen=True, slots=True)
class TocEntry:
    """A heading of a long page: ``level`` 2 or 3, ``id`` the anchor, ``title`` plain text."""

    level: int
    id: str
    title: str


@dataclass(frozen=True, slots=True)
class Page:
    """One rendered document of any section but the blog.

    ``html`` is sanitised (safe to mark safe in a template); ``toc`` is empty for short
    pages. ``category`` is the help category (``None`` elsewhere); ``order`` sorts a
    section's listing; ``draft`` pages are never listed, linked or put in the sitemap."""

    slug: str
    section: Section
    title: str
    description: str
    html: str
    toc: tuple[TocEntry, ...]
    updated: dt.date | None
    url: str
    order: int = 100
    category: str | None = None
    draft: bool = False
    front_matter: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class Post:
    """One rendered blog post (``html`` sanitised)."""

    slug: str
    title: str
    summary: str
    author: str
    date: dt.date
    tags: tuple[str, ...]
    html: str
    reading_minutes: int
    url: str
    description: str = ""
    toc: tuple[TocEntry, ...] = ()
    updated: dt.date | None = None
    draft: bool = False
    front_matter: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class HelpCategory:
    slug: str
    title: str
    articles: tuple[Page, ...]


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """An absolute URL for ``sitemap.xml`` and the day it last changed (if known)."""

    loc: str
    lastmod: dt.date | None = None
