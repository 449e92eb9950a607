"""Every Markdown-backed page of the site through one path: a route per section pattern
(``/reference/{slug}``, ``/blog/{slug}`` …, and one per company page) and one document
template with a table of contents for long pages. Drafts answer 404 and are never listed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.content import ContentLibrary, Page, Post, Section
from modelsnest.content.markdown import plain_text
from modelsnest.web import context as web
from modelsnest.web import seo
from modelsnest.web.errors import PageError
from modelsnest.web.render import render

# Sections read as documentation: they share the docs sidebar.
DOCS_SECTIONS: tuple[tuple[Section, str], ...] = (
    ("reference", "API reference"),
    ("sdks", "SDKs"),
    ("tutorials", "Tutorials"),
)
SECTION_TITLES: dict[Section, str] = {
    "reference": "API reference",
    "sdks": "SDKs",
    "tutorials": "Tutorials",
    "help": "Help centre",
    "blog": "Blog",
    "pages": "",
}
# Company pages with a page of their own elsewhere (the form, the docs home).
OWN_ROUTES = frozenset({"contact", "docs"})
MAX_SEARCH = 100


def library(request: Request) -> ContentLibrary:
    return web.services(request).content


def base_url(request: Request) -> str:
    return web.site_url(request)


def docs_nav(request: Request) -> list[tuple[str, list[tuple[str, str]]]]:
    """The docs sidebar: (group title, [(label, href)]) in reading order."""
    lib, base = library(request), base_url(request)
    groups = [
        ("Get started", [("Documentation", "/docs"), ("API explorer", "/api-docs"), ("Models", "/models")])
    ]
    for section, title in DOCS_SECTIONS:
        index = lib.get_page(section, "index", base_url=base)
        links = [(f"{title} overview" if section != "reference" else "Overview", index.url)] if index else []
        links += [(page.title, page.url) for page in lib.list_section(section, base_url=base)]
        groups.append((title, links))
    return groups


def _trail(doc: Page | Post, section: Section) -> list[tuple[str, str]]:
    trail = [("Home", "/")]
    if section in ("reference", "sdks", "tutorials"):
        trail.append(("Docs", "/docs"))
    if section != "pages":
        index_url = "/" + section
        if doc.url != index_url:
            trail.append((SECTION_TITLES[section], index_url))
    trail.append((doc.title, doc.url))
    return trail


async def document_page(
    request: Request, section: Section, doc: Page | Post, *, extra: dict[str, Any] | None = None
) -> Response:
    trail = _trail(doc, section)
    json_ld = [seo.breadcrumbs(request, trail)]
    published = modified = None
    og_type = "website"
    if isinstance(doc, Post):
        settings = web.services(request).settings
        json_ld.append(
            seo.article(
                request,
                title=doc.title,
                description=doc.description or doc.summary,
                path=doc.url,
                author=doc.author,
                published=doc.date,
                modified=doc.updated,
                publisher=settings.company_name,
            )
        )
        published, modified, og_type = doc.date, doc.updated, "article"
    elif doc.updated:
        modified = doc.updated
    in_docs = section in ("reference", "sdks", "tutorials") or (section == "pages" and doc.slug == "docs")
    values: dict[str, Any] = {
        "doc": doc,
        "section": section,
        "is_post": isinstance(doc, Post),
        "trail": trail,
        "docs_nav": docs_nav(request) if in_docs else None,
        "meta": seo.page_meta(
            request,
            doc.title,
            doc.description or getattr(doc, "summary", ""),
            path=doc.url,
            og_type=og_type,
            json_ld=json_ld,
            published=published,
            modified=modified,
        ),
        "listing": None,
    }
    values.update(extra or {})
    return await render(request, "pages/site/document.html", values, public=True)


def _page_or_404(request: Request, section: Section, slug: str) -> Page:
    page = library(request).get_page(section, slug, base_url=base_url(request))
    if page is None:
        raise PageError(404)
    return page


async def section_index(request: Request, section: Section) -> Response:
    index = _page_or_404(request, section, "index")
    listing = library(request).list_section(section, base_url=base_url(request))
    return await document_page(request, section, index, extra={"listing": listing})


async def section_document(request: Request, section: Section, slug: str) -> Response:
    if slug == "index":
        raise PageError(404)
    return await document_page(request, section, _page_or_404(request, section, slug))


def company_page(slug: str) -> Any:
    async def show(request: Request) -> Response:
        return await document_page(request, "pages", _page_or_404(request, "pages", slug))

    show.__name__ = f"page_{slug.replace('-', '_')}"
    return show


def _section_routes(router: APIRouter, section: Section) -> None:
    async def index(request: Request) -> Response:
        return await section_index(request, section)

    async def document(request: Request, slug: str) -> Response:
        return await section_document(request, section, slug)

    router.add_api_route(f"/{section}", index, methods=["GET"], name=f"{section}_index")
    router.add_api_route(f"/{section}/{{slug}}", document, methods=["GET"], name=f"{section}_document")


def search_help(request: Request, query: str) -> list[Page]:
    words = query.lower().split()
    found = []
    for page in library(request).list_section("help", base_url=base_url(request)):
        text = f"{page.title} {page.description} {plain_text(page.html)}".lower()
        if all(word in text for word in words):
            found.append(page)
    return found


def build_router(content: ContentLibrary) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def docs_home(request: Request) -> Response:
        return await document_page(request, "pages", _page_or_404(request, "pages", "docs"))

    for section, _ in DOCS_SECTIONS:
        _section_routes(router, section)

    @router.get("/help")
    async def help_index(request: Request) -> Response:
        index = _page_or_404(request, "help", "index")
        query = request.query_params.get("q", "").strip()[:MAX_SEARCH]
        values = {
            "categories": library(request).help_categories(base_url=base_url(request)),
            "query": query,
            "results": search_help(request, query) if query else None,
        }
        return await document_page(request, "help", index, extra=values)

    @router.get("/help/{slug}")
    async def help_article(request: Request, slug: str) -> Response:
        page = _page_or_404(request, "help", slug) if slug != "index" else None
        if page is None:
            raise PageError(404)
        categories = library(request).help_categories(base_url=base_url(request))
        related = next((c for c in categories if c.slug == page.category), None)
        return await document_page(request, "help", page, extra={"help_category": related})

    @router.get("/blog")
    async def blog_index(request: Request) -> Response:
        index = _page_or_404(request, "blog", "index")
        tag = request.query_params.get("tag") or None
        posts = library(request).list_posts(base_url=base_url(request), tag=tag)
        all_tags = sorted(
            {t for p in library(request).list_posts(base_url=base_url(request)) for t in p.tags}
        )
        return await document_page(
            request, "blog", index, extra={"posts": posts, "tag": tag, "tags": all_tags}
        )

    @router.get("/blog/{slug}")
    async def blog_post(request: Request, slug: str) -> Response:
        post = library(request).get_post(slug, base_url=base_url(request))
        if post is None:
            raise PageError(404)
        return await document_page(request, "blog", post)

    # One route per company and legal page the library holds (operators may add their own).
    for page in content.list_section("pages", base_url="http://localhost"):
        if page.slug not in OWN_ROUTES:
            router.add_api_route(f"/{page.slug}", company_page(page.slug), methods=["GET"])
    return router
