"""The whole public site, crawled from ``/``: every internal link and asset answers 200
(redirects only to our own pages), nothing loads from another host, every page is
well-formed HTML5 with unique ids, and every sitemap URL answers."""

from __future__ import annotations

import re

from tests.web.helpers import Browser
from tests.web.site_crawl import SiteCrawler
from tests.web.test_site_routes import BUILT_ELSEWHERE

ORIGIN = "http://testserver"


async def test_every_page_and_asset_reachable_from_the_home_page_works(site: Browser) -> None:
    crawl = await SiteCrawler(site.client, ORIGIN, skip=BUILT_ELSEWHERE).run("/", "/sitemap.xml")
    assert crawl.failures == []
    paths = {p.split("?")[0] for p in crawl.pages}
    # The crawl really went everywhere: every kind of page was reached by links alone.
    for expected in ("/", "/pricing", "/models", "/models/deepseek", "/docs", "/reference",
                     "/reference/chat-completions", "/sdks/python", "/tutorials/first-request",
                     "/help", "/help/error-codes", "/blog", "/blog/why-we-bill-in-nano-dollars",
                     "/terms", "/privacy", "/dpa", "/contact", "/status", "/api-docs", "/login"):  # fmt: skip
        assert expected in paths, f"{expected} was not reached from the home page"
    assert any(p.startswith("/static/vendor/swagger-ui/") for p in crawl.assets)
    assert len(crawl.pages) > 120, len(crawl.pages)


async def test_every_sitemap_url_answers_200_and_is_absolute(site: Browser) -> None:
    sitemap = (await site.get("/sitemap.xml")).text
    urls = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert len(urls) == len(set(urls)) > 100
    for url in urls:
        assert url.startswith(ORIGIN + "/"), url
        response = await site.get(url.removeprefix(ORIGIN))
        assert response.status_code == 200, url


async def test_the_crawler_notices_broken_pages(site: Browser) -> None:
    """The crawler itself: a missing page, an external script and malformed HTML all count."""
    crawler = SiteCrawler(site.client, ORIGIN)
    crawler.read_page(
        "/x",
        '<!doctype html><html><head><title>x</title><script src="https://cdn.jsdelivr.net/x.js"></script></head>'
        '<body><p id="a">one</p><p id="a">two</div><a href="/no/such/page">x</a></body></html>',
    )
    await crawler.run("/no/such/page")
    text = "\n".join(crawler.crawl.failures)
    assert "loads https://cdn.jsdelivr.net/x.js from another host" in text
    assert "not well-formed" in text
    assert "repeats the ids ['a']" in text
    assert "/no/such/page" in text and "404" in text
