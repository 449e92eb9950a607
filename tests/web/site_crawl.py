"""Crawling the public site like a browser and a search engine would: every internal link
and asset followed, every page parsed by a strict HTML5 parser."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

import html5lib
import httpx

# Attributes through which a page makes the browser load something.
LOADING = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
}
LOADING_LINK_RELS = {"stylesheet", "icon", "preload", "modulepreload", "manifest", "apple-touch-icon"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
CDN_HOSTS = re.compile(
    r"(cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|fonts\.googleapis\.com|fonts\.gstatic\.com|"
    r"ajax\.googleapis\.com|code\.jquery\.com|bootstrapcdn\.com|cdn\.skypack\.dev|esm\.sh|cdn\.redoc\.ly|"
    r"fonts\.scalar\.com|cdn\.scalar\.com|googletagmanager\.com|google-analytics\.com)",
    re.IGNORECASE,
)
XHTML = "{http://www.w3.org/1999/xhtml}"


@dataclass
class Crawl:
    pages: dict[str, str] = field(default_factory=dict)  # path → HTML
    assets: dict[str, bytes] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    external_links: set[str] = field(default_factory=set)

    def fail(self, message: str) -> None:
        self.failures.append(message)


def srcset_urls(value: str) -> list[str]:
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


def parse_strict(html: str) -> object:
    """The document tree; ``html5lib.html5parser.ParseError`` on any error a browser would
    have to recover from (stray end tags, bad nesting, duplicate attributes …)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    return parser.parse(html)


class SiteCrawler:
    def __init__(self, client: httpx.AsyncClient, origin: str, *, skip: frozenset[str] = frozenset()) -> None:
        self.client = client
        self.origin = origin.rstrip("/")
        self.skip = skip
        self.crawl = Crawl()
        self._seen: set[str] = set()
        self._queue: deque[tuple[str, str, bool]] = deque()

    def internal(self, url: str) -> str | None:
        """The path (with query) of ``url`` when it is on this site, else None."""
        parts = urlsplit(url)
        if parts.scheme in ("mailto", "tel", "data", "javascript"):
            return None
        if parts.scheme and f"{parts.scheme}://{parts.netloc}" != self.origin:
            return None
        if not parts.scheme and parts.netloc:  # //host/path
            return None
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def enqueue(self, url: str, referrer: str, *, asset: bool) -> None:
        base = self.origin + (referrer if referrer.startswith("/") else "/")
        path = self.internal(urljoin(base, urldefrag(url)[0]))
        if path is None or path in self._seen or path.split("?")[0] in self.skip:
            return
        self._seen.add(path)
        self._queue.append((path, referrer, asset))

    async def fetch(self, path: str, referrer: str) -> httpx.Response | None:
        response = await self.client.get(path)
        hops = 0
        while response.is_redirect and hops < 5:
            target = urljoin(self.origin + path, response.headers["location"])
            inside = self.internal(target)
            if inside is None:
                self.crawl.fail(f"{path} (linked from {referrer}) redirects off the site to {target}")
                return None
            path, hops = inside, hops + 1
            response = await self.client.get(path)
        if response.status_code != 200:
            self.crawl.fail(f"{path} (linked from {referrer}) answered {response.status_code}")
            return None
        return response

    async def run(self, start: str = "/", *extra: str) -> Crawl:
        for path in (start, *extra):
            self.enqueue(path, "(start)", asset=False)
        while self._queue:
            path, referrer, asset = self._queue.popleft()
            response = await self.fetch(path, referrer)
            if response is None:
                continue
            kind = response.headers.get("content-type", "")
            if kind.startswith("text/html"):
                self.crawl.pages[path] = response.text
                self.read_page(path, response.text)
            else:
                self.crawl.assets[path] = response.content
                if kind.startswith("text/css"):
                    self.read_css(path, response.text)
                elif "javascript" in kind and CDN_HOSTS.search(response.text):
                    self.crawl.fail(f"{path} refers to a CDN: {CDN_HOSTS.search(response.text).group(0)}")  # type: ignore[union-attr]
        return self.crawl

    def read_css(self, path: str, text: str) -> None:
        for match in CSS_URL.finditer(text):
            url = match.group(1) or match.group(2)
            if url.startswith("data:"):
                continue
            if self.internal(urljoin(self.origin + path, url)) is None:
                self.crawl.fail(f"{path} loads {url} from another host")
            else:
                self.enqueue(url, path, asset=True)

    def read_page(self, path: str, html: str) -> None:
        try:
            tree = parse_strict(html)
        except Exception as exc:
            line = (
                html.splitlines()[getattr(exc, "position", (0,))[0] - 1] if hasattr(exc, "position") else ""
            )
            self.crawl.fail(f"{path} is not well-formed HTML: {exc} {line[:200]!r}")
            tree = html5lib.parse(html)
        ids: dict[str, int] = {}
        for element in tree.iter():  # type: ignore[attr-defined]
            tag = str(element.tag).removeprefix(XHTML)
            attributes = element.attrib
            if "id" in attributes:
                ids[attributes["id"]] = ids.get(attributes["id"], 0) + 1
            if tag == "a" and "href" in attributes:
                href = attributes["href"]
                if self.internal(urljoin(self.origin + path, href)) is None:
                    if href.startswith(("http://", "https://", "//")):
                        # Outbound citations open another site; they load nothing into ours.
                        if "noopener" not in attributes.get("rel", ""):
                            self.crawl.fail(f"{path} links to {href} without rel=noopener")
                        self.crawl.external_links.add(href)
                    continue
                self.enqueue(href, path, asset=False)
            elif tag == "link" and "href" in attributes:
                rels = set(attributes.get("rel", "").split())
                if rels & LOADING_LINK_RELS:
                    self.check_loaded(path, attributes["href"])
                elif "canonical" in rels or "alternate" in rels:
                    self.enqueue(attributes["href"], path, asset=False)
            elif tag in LOADING:
                for name in LOADING[tag]:
                    if name in attributes:
                        urls = srcset_urls(attributes[name]) if name == "srcset" else [attributes[name]]
                        for url in urls:
                            self.check_loaded(path, url)
            elif tag == "meta" and attributes.get("property") in ("og:url", "og:image"):
                self.check_loaded(path, attributes.get("content", ""))
        duplicated = sorted(name for name, count in ids.items() if count > 1)
        if duplicated:
            self.crawl.fail(f"{path} repeats the ids {duplicated}")

    def check_loaded(self, path: str, url: str) -> None:
        if url.startswith("data:"):
            return
        if self.internal(urljoin(self.origin + path, url)) is None:
            self.crawl.fail(f"{path} loads {url} from another host")
        else:
            self.enqueue(url, path, asset=True)
