"""What search engines and link previews read: the canonical URL, OpenGraph and Twitter
tags, and JSON-LD (Organization on the home page, Article on posts, BreadcrumbList on
documents). Nothing invented: no ratings, no offers, no reviews."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.requests import Request

from modelsnest.web import context as web


@dataclass(frozen=True)
class PageMeta:
    title: str
    description: str
    canonical: str  # absolute
    image: str  # absolute URL of the link-preview image
    og_type: str = "website"
    json_ld: Sequence[dict[str, Any]] = field(default_factory=tuple)
    published: date | None = None
    modified: date | None = None
    noindex: bool = False


def absolute(request: Request, path: str) -> str:
    return web.site_url(request) + path


def page_meta(
    request: Request,
    title: str,
    description: str,
    *,
    path: str | None = None,
    og_type: str = "website",
    json_ld: Sequence[dict[str, Any]] = (),
    published: date | None = None,
    modified: date | None = None,
) -> PageMeta:
    return PageMeta(
        title=title,
        description=description,
        canonical=absolute(request, path if path is not None else request.url.path),
        image=absolute(request, web.services(request).pages.assets.url("img/og.png")),
        og_type=og_type,
        json_ld=tuple(json_ld),
        published=published,
        modified=modified,
    )


def organization(request: Request, name: str, email: str) -> dict[str, Any]:
    base = web.site_url(request)
    return {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": name,
        "url": base + "/",
        "logo": base + web.services(request).pages.assets.url("img/logo.svg"),
        "email": email,
        "contactPoint": {"@type": "ContactPoint", "contactType": "customer support", "email": email},
    }


def breadcrumbs(request: Request, trail: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """``trail``: (name, path) pairs from the top."""
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": absolute(request, path)}
            for i, (name, path) in enumerate(trail, start=1)
        ],
    }


def article(
    request: Request,
    *,
    title: str,
    description: str,
    path: str,
    author: str,
    published: date,
    modified: date | None,
    publisher: str,
) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": title,
        "description": description,
        "mainEntityOfPage": absolute(request, path),
        "author": {"@type": "Organization", "name": author},
        "publisher": {"@type": "Organization", "name": publisher},
        "datePublished": published.isoformat(),
        "dateModified": (modified or published).isoformat(),
    }


__all__ = ["PageMeta", "absolute", "article", "breadcrumbs", "organization", "page_meta"]
