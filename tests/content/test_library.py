"""Every shipped document parses, has its front matter, renders, and is listed the way the
site expects (drafts hidden, posts newest first, help by category)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from modelsnest.content import HELP_CATEGORIES, SECTIONS, ContentLibrary, Page, Post
from modelsnest.content.loader import load_sources
from modelsnest.content.types import INDEX_SLUG
from modelsnest.settings import Settings
from tests.content.conftest import BASE_URL, all_documents, catalog_prices, origin

_PLACEHOLDER = re.compile(r"\{\{|\{%|\{#|%\}")


def test_every_file_parses_and_renders(library: ContentLibrary) -> None:
    assert library.validate(BASE_URL) == len(load_sources())


def test_the_content_covers_every_section_the_site_renders(library: ContentLibrary) -> None:
    counts = {s: 0 for s in SECTIONS}
    for key in load_sources():
        counts[key[0]] += 1
    assert counts["blog"] >= 5 + 1  # five posts and the blog's intro
    assert counts["tutorials"] >= 3 + 1
    assert counts["help"] >= 20 + 1
    for slug in ("about", "careers", "community", "compliance", "contact", "dpa", "legal", "press",
                 "privacy", "security", "terms", "docs"):  # fmt: skip
        assert library.get_page("pages", slug, base_url=BASE_URL) is not None, slug
    for slug in ("python", "javascript", "curl"):
        assert library.get_page("sdks", slug, base_url=BASE_URL) is not None, slug
    for slug in ("chat-completions", "embeddings", "images", "audio-transcriptions", "audio-speech",
                 "video-generations", "models", "credits", "usage", "generation"):  # fmt: skip
        assert library.get_page("reference", slug, base_url=BASE_URL) is not None, slug


@pytest.mark.parametrize("operator", [False, True], ids=["defaults", "operator-set"])
def test_no_placeholder_survives_rendering(
    library: ContentLibrary, operator_library: ContentLibrary, operator: bool
) -> None:
    lib = operator_library if operator else library
    for doc in all_documents(lib):
        for text in (doc.html, doc.title, doc.description):
            assert not _PLACEHOLDER.search(text), f"{origin(doc)}: unrendered placeholder"
    landing = lib.landing(base_url=BASE_URL)
    assert not _PLACEHOLDER.search(repr(landing))


def test_required_front_matter_is_typed(library: ContentLibrary) -> None:
    for doc in all_documents(library):
        assert doc.title.strip() and doc.description.strip(), origin(doc)
        if isinstance(doc, Post):
            assert isinstance(doc.date, date) and doc.author and doc.tags and doc.summary
            assert doc.reading_minutes >= 2, f"{origin(doc)} is too short to be an article"
        elif doc.section == "help" and doc.slug != INDEX_SLUG:
            assert doc.category in HELP_CATEGORIES


def test_bodies_leave_the_h1_to_the_page_template(library: ContentLibrary) -> None:
    for doc in all_documents(library):
        assert "<h1" not in doc.html, f"{origin(doc)}: the title is the page's only h1"


def test_headings_have_ids_and_long_pages_a_table_of_contents(library: ContentLibrary) -> None:
    terms = library.get_page("pages", "terms", base_url=BASE_URL)
    assert terms is not None
    ids = {entry.id for entry in terms.toc}
    assert {"prepaid-credits", "refunds", "acceptable-use"} <= ids
    assert all(f'id="{entry.id}"' in terms.html for entry in terms.toc)
    assert [e.title for e in terms.toc][:2] == ["Your account", "Prepaid credits"]
    short = library.get_page("help", "simulator", base_url=BASE_URL)
    assert short is not None and short.toc == ()


def test_fenced_code_keeps_its_language_class(library: ContentLibrary) -> None:
    page = library.get_page("sdks", "python", base_url=BASE_URL)
    assert page is not None
    assert '<code class="language-python">' in page.html
    assert '<code class="language-bash">' in page.html


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


def test_drafts_are_never_listed_or_served(tmp_path: Path) -> None:
    (tmp_path / "tutorials").mkdir()
    (tmp_path / "tutorials" / "upcoming.md").write_text(DRAFT_TUTORIAL)
    library = ContentLibrary.from_settings(Settings(content_dir=tmp_path))
    drafts = [key for key, source in load_sources(tmp_path).items() if source.draft]
    assert ("tutorials", "upcoming") in drafts
    for section, slug in drafts:
        assert library.get_page(section, slug, base_url=BASE_URL) is None
        assert slug not in [p.slug for p in library.list_section(section, base_url=BASE_URL)]
        assert not any(e.loc.endswith(f"/{slug}") for e in library.sitemap(base_url=BASE_URL))
        assert library.get_page(section, slug, base_url=BASE_URL, include_drafts=True) is not None


def test_posts_are_listed_newest_first(library: ContentLibrary) -> None:
    posts = library.list_posts(base_url=BASE_URL)
    assert len(posts) >= 5
    assert [p.date for p in posts] == sorted((p.date for p in posts), reverse=True)
    tagged = library.list_posts(base_url=BASE_URL, tag="billing")
    assert tagged and all("billing" in p.tags for p in tagged)
    assert library.get_post(posts[0].slug, base_url=BASE_URL) == posts[0]
    assert library.get_post("no-such-post", base_url=BASE_URL) is None


def test_sections_are_listed_in_their_declared_order(library: ContentLibrary) -> None:
    reference = library.list_section("reference", base_url=BASE_URL)
    assert reference[0].slug == "chat-completions"
    assert [p.order for p in reference] == sorted(p.order for p in reference)
    assert all(p.slug != INDEX_SLUG for p in reference)
    with pytest.raises(ValueError):
        library.list_section("blog", base_url=BASE_URL)


def test_help_is_grouped_by_category_in_display_order(library: ContentLibrary) -> None:
    categories = library.help_categories(base_url=BASE_URL)
    assert [c.slug for c in categories] == list(HELP_CATEGORIES)
    assert sum(len(c.articles) for c in categories) >= 20
    errors = next(c for c in categories if c.slug == "errors")
    assert errors.articles[0].slug == "error-codes"


def test_every_error_code_of_the_gateway_is_explained(library: ContentLibrary) -> None:
    guide = library.get_page("help", "error-codes", base_url=BASE_URL)
    assert guide is not None
    for code in ("MISSING_AUTH_HEADER", "INVALID_TOKEN", "MISSING_MODEL", "MODEL_NOT_FOUND",
                 "MODEL_UNAVAILABLE", "MODEL_NOT_ALLOWED", "INSUFFICIENT_CREDITS", "RATE_LIMITED",
                 "PRICING_MISSING", "INVALID_PRICING", "USAGE_TRANSACTION_FAILED", "INTERNAL_ERROR",
                 "UPSTREAM_ERROR", "UPSTREAM_TIMEOUT", "UPSTREAM_BAD_REQUEST", "UPSTREAM_STREAM_BROKEN",
                 "IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_KEY_IN_USE", "INVALID_REQUEST",
                 "AUDIO_UNDECODABLE", "UNSUPPORTED_AUDIO_FORMAT", "GENERATION_NOT_FOUND",
                 "VIDEO_NOT_FOUND", "PAYLOAD_TOO_LARGE", "VIDEO_FAILED", "VIDEO_TIMEOUT"):  # fmt: skip
        assert f"<code>{code}</code>" in guide.html, code


def test_the_base_url_fills_the_examples(library: ContentLibrary) -> None:
    page = library.get_page("reference", "chat-completions", base_url="https://gw.acme.test/")
    assert page is not None
    assert "https://gw.acme.test/api/v1/chat/completions" in page.html
    assert "api.example.com" not in page.html


def test_a_hostile_host_cannot_put_text_into_a_page(library: ContentLibrary) -> None:
    page = library.get_page("sdks", "curl", base_url='https://x.test/"><script>alert(1)</script>')
    assert page is not None
    assert "<script" not in page.html and "x.test" not in page.html
    assert "http://127.0.0.1:8000/api/v1" in page.html


def test_the_operators_names_replace_the_product_name_in_prose(operator_library: ContentLibrary) -> None:
    """With the operator's own name set, "Modelsnest" appears only in code (header names,
    environment variables, commands), never in the text a reader sees as the company."""
    code = re.compile(r"<pre>.*?</pre>|<code>.*?</code>", re.S)
    brand = re.compile(r"(?<![-\w])Modelsnest(?![-\w])")  # not X-Modelsnest-Provider
    for doc in all_documents(operator_library):
        prose = code.sub("", doc.html)
        assert not brand.search(prose), origin(doc)
        assert not brand.search(doc.title + " " + doc.description), origin(doc)
    terms = operator_library.get_page("pages", "terms", base_url=BASE_URL)
    assert terms is not None
    assert "Acme AI Ltd" in terms.html and "1 Example Street, Springfield" in terms.html
    assert "the laws of England and Wales" in terms.html
    legal = operator_library.get_page("pages", "legal", base_url=BASE_URL)
    assert legal is not None and "Company no. 01234567" in legal.html
    security = operator_library.get_page("pages", "security", base_url=BASE_URL)
    assert security is not None and "mailto:security@acme.test" in security.html


def test_unset_operator_facts_read_as_neutral_wording(library: ContentLibrary) -> None:
    terms = library.get_page("pages", "terms", base_url=BASE_URL)
    assert terms is not None
    assert "the laws of the country in which Modelsnest is established" in terms.html
    legal = library.get_page("pages", "legal", base_url=BASE_URL)
    assert legal is not None and "Address:" not in legal.html and "Registration:" not in legal.html


def test_deployment_limits_in_the_text_follow_the_settings() -> None:
    from modelsnest.settings import Settings

    lib = ContentLibrary.from_settings(Settings(idempotency_ttl_seconds=7200, media_ttl_seconds=3 * 3600))
    privacy = lib.get_page("pages", "privacy", base_url=BASE_URL)
    assert privacy is not None
    assert "deleted after 2 hours" in privacy.html and "deleted after 3 hours" in privacy.html


def test_the_landing_copy_is_complete(library: ContentLibrary) -> None:
    landing = library.landing(base_url=BASE_URL)
    assert [s.language for s in landing.showcase.samples] == ["bash", "python", "javascript"]
    assert all(f"{BASE_URL}/api/v1" in s.code for s in landing.showcase.samples)
    ids = [s.id for s in landing.sections]
    for wanted in ("features", "edge", "developer-experience", "enterprise", "integrations", "testimonials"):
        assert wanted in ids
    edge = landing.section("edge")
    assert all({"us", "typical", "evidence"} <= set(item.meta) for item in edge.items)
    testimonials = landing.section("testimonials")
    assert "composite" in testimonials.intro_html.lower()
    assert all("Composite persona" in item.meta["role"] for item in testimonials.items)
    assert len(landing.faq.items) >= 5 and landing.cta.primary.href == "/signup"


def test_the_landing_copy_quotes_no_catalog_price(library: ContentLibrary) -> None:
    """Prices change in the catalog; the site renders them from there, never from copy."""
    text = repr(library.landing(base_url=BASE_URL))
    for price in catalog_prices():
        assert not re.search(rf"(?<![\d.]){re.escape(price)}(?![\d])", text), price


def test_rendering_is_cached_per_base_url(library: ContentLibrary) -> None:
    first = library.get_page("pages", "about", base_url=BASE_URL)
    again = library.get_page("pages", "about", base_url=BASE_URL + "/")
    assert first is not None and again is not None and first.html is again.html
    assert isinstance(first, Page)
