"""Machine-readable site files: ``robots.txt``, ``sitemap.xml`` (every public page, model and
post, absolute URLs), ``llms.txt``, the blog's RSS feed; and the OpenAPI explorer page
``/api-docs`` (Swagger UI served from our own static files), with ``/api/docs`` pointing there."""

from __future__ import annotations

from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from modelsnest.content.feeds import FEED_PATH, LLMS_TXT_PATH
from modelsnest.web import context as web
from modelsnest.web import seo
from modelsnest.web.render import render

router = APIRouter(include_in_schema=False)

FEED_CACHE = "public, max-age=3600"
# Site pages that are not Markdown documents (the content's own sitemap has those).
APP_PAGES = ("/models", "/pricing", "/status", "/api-docs", "/docs")
PRIVATE_PREFIXES = (
    "/dashboard",
    "/admin",
    "/api/",
    "/login",
    "/signup",
    "/logout",
    "/forgot-password",
    "/reset-password",
    "/verify-email",
    "/dev/",
)


@router.get("/robots.txt")
async def robots(request: Request) -> Response:
    lines = ["User-agent: *", "Allow: /"]
    lines += [f"Disallow: {prefix}" for prefix in PRIVATE_PREFIXES]
    lines += ["", f"Sitemap: {web.site_url(request)}/sitemap.xml", ""]
    return Response(
        "\n".join(lines), media_type="text/plain; charset=utf-8", headers={"Cache-Control": FEED_CACHE}
    )


async def sitemap_urls(request: Request) -> list[tuple[str, str | None]]:
    """Every public URL (absolute) with its last change (ISO date) when known."""
    services = web.services(request)
    base = web.site_url(request)
    urls: dict[str, str | None] = {}
    for entry in services.content.sitemap(base_url=base):
        urls[entry.loc] = entry.lastmod.isoformat() if entry.lastmod else None
    for path in APP_PAGES:
        urls.setdefault(base + path, None)
    for model in (await services.directory.get()).models:
        urls.setdefault(f"{base}/models/{model.slug}", None)
    return list(urls.items())


@router.get("/sitemap.xml")
async def sitemap(request: Request) -> Response:
    rows = []
    for loc, lastmod in await sitemap_urls(request):
        stamp = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        rows.append(f"  <url><loc>{escape(loc)}</loc>{stamp}</url>")
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "\n".join(rows) + "\n</urlset>\n"
    )
    return Response(body, media_type="application/xml", headers={"Cache-Control": FEED_CACHE})


@router.get(LLMS_TXT_PATH)
async def llms_txt(request: Request) -> Response:
    text = web.services(request).content.llms_txt(base_url=web.site_url(request))
    return Response(text, media_type="text/plain; charset=utf-8", headers={"Cache-Control": FEED_CACHE})


@router.get(FEED_PATH)
async def rss(request: Request) -> Response:
    body = web.services(request).content.rss(base_url=web.site_url(request))
    return Response(body, media_type="application/rss+xml", headers={"Cache-Control": FEED_CACHE})


@router.get("/api-docs")
async def api_explorer(request: Request) -> Response:
    return await render(
        request,
        "pages/site/api_docs.html",
        {
            "meta": seo.page_meta(
                request,
                "API explorer",
                "Every endpoint of the API from its OpenAPI schema: request and response shapes, "
                "with requests you can send from the page.",
            )
        },
        public=True,
    )


@router.get("/api/docs")
async def old_docs_url() -> Response:
    # FastAPI's default page loaded Swagger UI from a CDN; ours is served by us.
    return RedirectResponse("/api-docs", status_code=308)
