"""The public site's pages: what they show, read from the catalog and the content (never
typed into a template), how they are cached, and what search engines and previews read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from sqlalchemy import update

from modelsnest.catalog import providers as catalog_providers
from modelsnest.crypto import SecretBox
from modelsnest.db.models.catalog import AiModel, AiModelPricing
from modelsnest.money import usd_to_nanos
from modelsnest.settings import Settings
from tests.web.helpers import Browser, browser_for


def json_ld(html: str) -> list[dict[str, object]]:
    return [
        json.loads(block)
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    ]


async def test_landing_page_has_every_section_and_the_organization(site: Browser) -> None:
    page = await site.get("/")
    assert page.status_code == 200
    for anchor in ('id="api"', 'id="features"', 'id="edge"', 'id="developer-experience"', 'id="enterprise"',
                   'id="integrations"', 'id="pricing"', 'id="testimonials"', 'id="faq"', 'id="cta-title"'):  # fmt: skip
        assert anchor in page.text, anchor
    assert (
        'role="tablist"' in page.text
        and "JavaScript" in page.text
        and "http://testserver/api/v1" in page.text
    )
    [org] = json_ld(page.text)
    assert org["@type"] == "Organization" and org["url"] == "http://testserver/"
    assert "ratingValue" not in page.text and '"offers"' not in page.text
    assert '<link rel="canonical" href="http://testserver/">' in page.text
    assert 'property="og:image" content="http://testserver/static/img/og.png?v=' in page.text


async def test_prices_come_from_the_catalog(site: Browser) -> None:
    before = (await site.get("/pricing")).text
    assert "$0.00027" in before and "$0.27 / 1M tokens" in before  # deepseek's seeded input price
    async with site.services.sessions.begin() as session:
        model_id = (
            (await session.execute(AiModel.__table__.select().where(AiModel.slug == "deepseek"))).first().id
        )  # type: ignore[union-attr]
        await session.execute(
            update(AiModelPricing)
            .where(AiModelPricing.model_id == model_id)
            .values(input_price_nanos=usd_to_nanos("0.000123"))
        )
    site.services.gateway.catalog.invalidate()
    for path in ("/pricing", "/", "/models/deepseek"):
        text = (await site.get(path)).text
        assert "$0.000123" in text and "$0.123 / 1M tokens" in text, path
    # Every category of the catalog has its table, each model its row.
    pricing = (await site.get("/pricing")).text
    directory = await site.services.directory.get()
    for category, models in directory.grouped():
        assert f'id="{category.slug}"' in pricing
        for model in models:
            assert f'href="/models/{model.slug}"' in pricing


async def test_anonymous_public_pages_are_cacheable_and_set_no_cookie(site: Browser) -> None:
    for path in ("/", "/pricing", "/models", "/models/deepseek", "/docs", "/blog", "/terms", "/status"):
        response = await site.get(path)
        assert response.headers["cache-control"].startswith("public, max-age="), path
        assert "cookie" in response.headers["vary"].lower(), path
        assert "set-cookie" not in response.headers, path
        assert 'name="csrf-token"' not in response.text, path
    assert (await site.get("/status")).headers["cache-control"] == "public, max-age=30"
    contact = await site.get("/contact")  # a form: never shared
    assert contact.headers["cache-control"] == "no-store" and 'name="csrf_token"' in contact.text


async def test_a_signed_in_visitor_sees_the_dashboard_link_and_is_never_cached(site: Browser) -> None:
    anonymous = (await site.get("/")).text
    assert "Get started" in anonymous and 'href="/login"' in anonymous
    await site.sign_up("visitor@example.com")
    response = await site.get("/")
    assert response.headers["cache-control"] == "no-store"
    assert (await site.get("/status")).headers["cache-control"] == "no-store"
    assert 'href="/dashboard"' in response.text and "Get started" not in response.text


async def test_models_filter_by_category_and_search_without_javascript(site: Browser) -> None:
    directory = await site.services.directory.get()
    images = (await site.get("/models?category=image")).text
    image_slugs = {m.slug for m in directory.models if m.info.category == "image"}
    assert all(f'href="/models/{slug}"' in images for slug in image_slugs)
    assert 'href="/models/deepseek"' not in images
    assert f"{len(image_slugs)} models in image generation" in images
    found = (await site.get("/models?q=whisper")).text
    assert 'href="/models/whisper-1"' in found and 'href="/models/deepseek"' not in found
    none = (await site.get("/models?q=no-such-model-anywhere")).text
    assert "No model matches" in none
    unknown = (await site.get("/models?category=nope")).text
    assert f"{len(directory.models)} models" in unknown


async def test_htmx_gets_only_the_results(site: Browser) -> None:
    fragment = await site.get(
        "/models?q=whisper", headers={"HX-Request": "true", "HX-Target": "model-results"}
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="model-results"') and "<html" not in fragment.text
    assert "hx-request" in fragment.headers["vary"].lower()


async def test_model_page_renders_its_docs_for_this_site_and_names_providers_only(
    web_settings_public: Browser,
) -> None:
    site = web_settings_public
    box = SecretBox(site.services.settings.resolved_secret_key())
    await catalog_providers.add_provider(
        site.services.sessions,
        box,
        name="acme",
        kind="openai",
        base_url="https://secret-upstream.example/v1",
        api_key="sk-very-secret",
    )
    await catalog_providers.add_route(
        site.services.sessions,
        model_slug="gpt-4o-mini",
        provider_name="acme",
        upstream_model="gpt-4o-mini",
        priority=1,
    )
    site.services.gateway.catalog.invalidate()
    page = (await site.get("/models/gpt-4o-mini")).text
    assert "POST" in page and "/api/v1/chat/completions" in page and "200 OK" in page
    assert (
        "https://api.modelsnest.example/api/v1/chat/completions" in page
    )  # MODELSNEST_PUBLIC_URL, not the request's host
    assert 'id="examples-tab-python"' in page and 'id="params-title"' in page and "Quick start" in page
    assert "<strong>acme</strong>" in page and "<strong>simulator</strong>" in page
    assert "secret-upstream" not in page and "sk-very-secret" not in page
    assert 'href="/dashboard/playground?model=gpt-4o-mini"' in page
    assert '<link rel="canonical" href="https://api.modelsnest.example/models/gpt-4o-mini">' in page
    video = (await site.get("/models/veo-3")).text
    assert "202 Accepted" in video
    missing = await site.get("/models/no-such-model")
    assert missing.status_code == 404 and "Model not found" in missing.text


async def test_documents_share_one_template_and_drafts_are_hidden(site: Browser) -> None:
    reference = (await site.get("/reference/chat-completions")).text
    assert 'class="method method-post">POST</span>' in reference and "Billed per 1K input tokens" in reference
    assert 'class="doc-toc"' in reference and 'aria-current="page">Chat completions</a>' in reference
    crumbs = json_ld(reference)[0]
    assert crumbs["@type"] == "BreadcrumbList"
    assert [item["name"] for item in crumbs["itemListElement"]] == [
        "Home",
        "Docs",
        "API reference",
        "Chat completions",
    ]  # type: ignore[index]
    free = (await site.get("/reference/credits")).text
    assert "Free: no credits used" in free
    post = (await site.get("/blog/why-we-bill-in-nano-dollars")).text
    article = [d for d in json_ld(post) if d["@type"] == "Article"][0]
    assert article["datePublished"] == "2026-10-06" and article["headline"] == "Why we bill in nano-dollars"
    assert 'property="og:type" content="article"' in post
    assert (await site.get("/reference/index")).status_code == 404
    for page in (
        "/about",
        "/careers",
        "/community",
        "/compliance",
        "/dpa",
        "/legal",
        "/press",
        "/privacy",
        "/security",
        "/terms",
    ):
        response = await site.get(page)
        assert response.status_code == 200 and '<article class="doc"' in response.text, page


async def test_help_centre_lists_categories_and_searches(site: Browser) -> None:
    index = (await site.get("/help")).text
    assert "Billing &amp; credits" in index and 'href="/help/error-codes"' in index
    results = (await site.get("/help?q=leaked")).text
    assert 'href="/help/leaked-api-key"' in results and "about “leaked”" in results
    article = (await site.get("/help/rate-limited")).text
    assert "More about errors" in article and 'href="/help/error-codes"' in article


async def test_blog_lists_posts_newest_first_and_filters_by_tag(site: Browser) -> None:
    blog = (await site.get("/blog")).text
    dates = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', blog)
    assert len(dates) == 5 and dates == sorted(dates, reverse=True)
    tagged = (await site.get("/blog?tag=billing")).text
    assert "Posts tagged “billing”" in tagged
    rss = await site.get("/blog/rss.xml")
    assert rss.headers["content-type"].startswith("application/rss+xml") and "<item>" in rss.text


async def test_machine_files(site: Browser) -> None:
    robots = await site.get("/robots.txt")
    assert "Sitemap: http://testserver/sitemap.xml" in robots.text and "Disallow: /dashboard" in robots.text
    sitemap = (await site.get("/sitemap.xml")).text
    for url in ("http://testserver/", "http://testserver/pricing", "http://testserver/models/deepseek",
                "http://testserver/blog/why-we-bill-in-nano-dollars", "http://testserver/status"):  # fmt: skip
        assert f"<loc>{url}</loc>" in sitemap
    llms = await site.get("/llms.txt")
    assert llms.headers["content-type"].startswith("text/plain") and llms.text.startswith("# Modelsnest")


async def test_the_explorer_is_served_by_us(site: Browser) -> None:
    old = await site.get("/api/docs")
    assert old.status_code == 308 and old.headers["location"] == "/api-docs"
    page = (await site.get("/api-docs")).text
    assert 'data-spec-url="/api/openapi.json"' in page
    assert re.search(r'src="/static/vendor/swagger-ui/swagger-ui-bundle\.js\?v=[0-9a-f]{12}"', page)
    assert re.search(r'src="/static/js/api-docs\.js\?v=[0-9a-f]{12}"', page)
    assert "<script>" not in page  # the CSP allows no inline script
    assert (await site.get("/api/openapi.json")).json()["paths"]


async def test_errors_are_pages_in_the_sites_style(site: Browser) -> None:
    missing = await site.get("/nothing/here")
    assert missing.status_code == 404 and "Perhaps you were looking for" in missing.text
    assert 'class="site-header"' in missing.text

    async def boom() -> None:
        raise RuntimeError("a bug")

    site.app.add_api_route("/boom", boom)
    # As a server would: the error answered, not raised into the test.
    transport = httpx.ASGITransport(app=site.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        broken = await client.get("/boom")
    assert broken.status_code == 500 and "Something went wrong on our side" in broken.text
    assert (
        "a bug" not in broken.text and "Traceback" not in broken.text and 'class="site-footer"' in broken.text
    )
    assert (await site.get("/api/v1/nothing")).json()["error"]["code"] == "NOT_FOUND"


async def test_status_page_without_traffic_says_so(site: Browser) -> None:
    page = (await site.get("/status")).text
    assert (
        "All systems operational" in page
        and "No traffic yet" in page
        and "No incidents in the last 30 days" in page
    )
    assert "simulator" in page and "Built-in simulator" in page


async def test_a_draft_is_served_nowhere(web_settings: Settings, tmp_path: Path) -> None:
    """An operator's (or our own) unfinished page: no route, no sitemap entry, no listing."""
    content = tmp_path / "content"
    (content / "tutorials").mkdir(parents=True)
    (content / "tutorials" / "upcoming.md").write_text(DRAFT_TUTORIAL)
    async with browser_for(web_settings.model_copy(update={"content_dir": content})) as site:
        assert (await site.get("/tutorials/upcoming")).status_code == 404
        assert "/tutorials/upcoming" not in (await site.get("/sitemap.xml")).text
        assert "/tutorials/upcoming" not in (await site.get("/tutorials")).text
        assert "/tutorials/upcoming" not in (await site.get("/llms.txt")).text


DRAFT_TUTORIAL = """---
title: Upcoming tutorial
description: Not published yet.
order: 99
level: beginner
duration_minutes: 5
draft: true
---

Work in progress.
"""
