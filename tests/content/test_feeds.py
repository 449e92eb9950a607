"""The blog feed is valid RSS 2.0 with absolute links, newest first; the sitemap lists every
public document; llms.txt follows the llmstxt.org layout."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from email.utils import parsedate_to_datetime

from modelsnest.content import ContentLibrary
from tests.content.conftest import BASE_URL

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"


def test_the_feed_is_rss_2_with_the_posts_newest_first(library: ContentLibrary) -> None:
    root = ET.fromstring(library.rss(base_url=BASE_URL))
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("link") == f"{BASE_URL}/blog"
    assert channel.findtext("title") == "Modelsnest blog"
    self_link = channel.find(f"{ATOM}link")
    assert self_link is not None and self_link.get("href") == f"{BASE_URL}/blog/rss.xml"
    items = channel.findall("item")
    posts = library.list_posts(base_url=BASE_URL)
    assert [i.findtext("title") for i in items] == [p.title for p in posts]
    dates = [parsedate_to_datetime(i.findtext("pubDate") or "") for i in items]
    assert dates == sorted(dates, reverse=True)
    for item, post in zip(items, posts, strict=True):
        assert item.findtext("link") == f"{BASE_URL}{post.url}"
        assert item.findtext("guid") == f"{BASE_URL}{post.url}"
        assert item.findtext("description") == post.summary
        assert item.findtext(f"{DC}creator") == post.author
        assert {c.text for c in item.findall("category")} == set(post.tags)


def test_the_feed_follows_the_request_base_url(library: ContentLibrary) -> None:
    xml = library.rss(base_url="https://gw.acme.test").decode()
    assert "https://gw.acme.test/blog/" in xml and BASE_URL not in xml


def test_the_sitemap_lists_every_public_document_once(library: ContentLibrary) -> None:
    entries = library.sitemap(base_url=BASE_URL)
    locs = [e.loc for e in entries]
    assert len(locs) == len(set(locs))
    assert all(loc.startswith(f"{BASE_URL}/") for loc in locs)
    for url in ("/", "/docs", "/terms", "/blog", "/reference", "/reference/chat-completions", "/help",
                "/help/error-codes", "/sdks/python", "/tutorials/first-request",
                "/blog/why-we-bill-in-nano-dollars"):  # fmt: skip
        assert f"{BASE_URL}{url}".rstrip("/") in [loc.rstrip("/") for loc in locs], url
    published = library.documents(base_url=BASE_URL, include_drafts=False)
    assert len(locs) == len(published) + 1  # the landing page
    post = next(e for e in entries if e.loc.endswith("/blog/holds-prepaid-balance-never-negative"))
    assert post.lastmod is not None and post.lastmod.isoformat() == "2026-10-20"


def test_llms_txt_is_an_h1_a_summary_and_sections_of_links(library: ContentLibrary) -> None:
    text = library.llms_txt(base_url=BASE_URL)
    lines = text.splitlines()
    assert lines[0] == "# Modelsnest"
    assert lines[2].startswith("> ")
    headings = [line[3:] for line in lines if line.startswith("## ")]
    assert headings == ["Docs", "API reference", "SDKs", "Tutorials", "Company and legal", "Optional"]
    links = re.findall(r"^- \[([^\]]+)\]\(([^)]+)\): (.+)$", text, re.M)
    urls = [url for _, url, _ in links]
    assert all(url.startswith(f"{BASE_URL}/") for url in urls)
    assert f"{BASE_URL}/reference/chat-completions" in urls and f"{BASE_URL}/help/error-codes" in urls
    published = {
        f"{BASE_URL}{doc.url}".rstrip("/")
        for doc in library.documents(base_url=BASE_URL, include_drafts=False)
    }
    assert {url.rstrip("/") for url in urls} <= published  # no draft, nothing unknown
    assert f'base_url="{BASE_URL}/api/v1"' in text
