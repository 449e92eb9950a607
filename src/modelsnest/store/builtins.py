"""Products the platform serves itself, behind the same mechanism as proxied ones (same key,
rules, hold and settlement): an in-process handler instead of an upstream URL.

* ``qr-code``: ``GET generate?data=…&format=png|svg&size=N`` (N pixels per module, 1-40;
  ``border`` modules of quiet zone, 0-10; ``error`` l|m|q|h) — segno.
* ``html-to-markdown``: ``POST convert`` with an HTML body, or JSON ``{"html": …}`` /
  ``{"url": …}`` (fetched with the store's network rules) — markdownify.
* ``pdf-to-text``: ``POST extract`` with a PDF body — pypdf; JSON with the text page by page.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

import orjson

from modelsnest.errors import InvalidRequest, NotFound

Fetch = Callable[[str], Awaitable[tuple[bytes, str]]]  # url -> (body, content type)


@dataclass(frozen=True)
class BuiltinRequest:
    method: str
    path: str
    query: Mapping[str, list[str]]
    content_type: str
    body: bytes
    fetch: Fetch


@dataclass(frozen=True)
class BuiltinAnswer:
    body: bytes
    media_type: str = "application/json"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[BuiltinRequest], Awaitable[BuiltinAnswer]]


def _one(query: Mapping[str, list[str]], name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    return values[-1] if values else default


def _int(query: Mapping[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    raw = _one(query, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"'{name}' must be a whole number.", param=name) from None
    if not low <= value <= high:
        raise InvalidRequest(f"'{name}' must be between {low} and {high}.", param=name)
    return value


async def qr_code(request: BuiltinRequest) -> BuiltinAnswer:
    import segno

    if request.path != "generate":
        raise NotFound("The QR code product answers at /generate.", code="PATH_NOT_FOUND", param="path")
    data = _one(request.query, "data")
    if not data:
        raise InvalidRequest("Give the text to encode as 'data'.", param="data")
    if len(data.encode()) > 2000:
        raise InvalidRequest("'data' is at most 2000 bytes.", param="data")
    kind = (_one(request.query, "format", "png") or "png").lower()
    if kind not in ("png", "svg"):
        raise InvalidRequest("'format' is png or svg.", param="format")
    scale = _int(request.query, "size", 8, 1, 40)
    border = _int(request.query, "border", 4, 0, 10)
    error = (_one(request.query, "error", "m") or "m").lower()
    if error not in ("l", "m", "q", "h"):
        raise InvalidRequest("'error' (correction level) is l, m, q or h.", param="error")
    qr = segno.make(data, error=error, micro=False)
    out = io.BytesIO()
    qr.save(out, kind=kind, scale=scale, border=border)
    media = "image/png" if kind == "png" else "image/svg+xml"
    return BuiltinAnswer(out.getvalue(), media, headers={"X-QR-Version": str(qr.version)})


_DROP_TAGS: Final = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "head")


def html_to_markdown_text(html: str) -> tuple[str, str | None]:
    """The page's Markdown (ATX headings, '-' bullets, scripts and styles dropped) and title."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(strip=True) if soup.title else None
    for tag in soup(list(_DROP_TAGS)):
        tag.decompose()
    markdown = MarkdownConverter(heading_style="ATX", bullets="-").convert_soup(soup)
    lines = [line.rstrip() for line in markdown.strip().splitlines()]
    cleaned: list[str] = []
    for line in lines:
        if line == "" and cleaned and cleaned[-1] == "":
            continue
        cleaned.append(line)
    return "\n".join(cleaned) + "\n", title or None


async def html_to_markdown(request: BuiltinRequest) -> BuiltinAnswer:
    if request.path != "convert":
        raise NotFound(
            "The HTML to Markdown product answers at /convert.", code="PATH_NOT_FOUND", param="path"
        )
    source_url: str | None = None
    if request.content_type.startswith("application/json"):
        try:
            payload = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            raise InvalidRequest("The body is not valid JSON.", param="body") from None
        if not isinstance(payload, dict):
            raise InvalidRequest('Send {"html": …} or {"url": …}.', param="body")
        if isinstance(payload.get("html"), str):
            html = payload["html"]
        elif isinstance(payload.get("url"), str):
            source_url = payload["url"]
            body, content_type = await request.fetch(source_url)
            if "html" not in content_type and "xml" not in content_type and "text" not in content_type:
                raise InvalidRequest(f"{source_url} is not an HTML page ({content_type}).", param="url")
            html = body.decode("utf-8", errors="replace")
        else:
            raise InvalidRequest('Send {"html": …} or {"url": …}.', param="body")
    else:
        html = request.body.decode("utf-8", errors="replace")
    if not html.strip():
        raise InvalidRequest("The HTML is empty.", param="html")
    markdown, title = html_to_markdown_text(html)
    answer = {"object": "markdown", "title": title, "source_url": source_url, "markdown": markdown}
    return BuiltinAnswer(orjson.dumps(answer))


async def pdf_to_text(request: BuiltinRequest) -> BuiltinAnswer:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if request.path != "extract":
        raise NotFound("The PDF to text product answers at /extract.", code="PATH_NOT_FOUND", param="path")
    if not request.body.startswith(b"%PDF-"):
        raise InvalidRequest("The body is not a PDF file.", code="INVALID_PDF", param="body")
    try:
        reader = PdfReader(io.BytesIO(request.body))
        if reader.is_encrypted:
            raise InvalidRequest("Encrypted PDFs are not supported.", code="INVALID_PDF", param="body")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise InvalidRequest(f"The PDF cannot be read: {exc}", code="INVALID_PDF", param="body") from None
    answer = {
        "object": "pdf_text",
        "page_count": len(pages),
        "pages": [{"page": n, "text": text} for n, text in enumerate(pages, start=1)],
        "text": "\n\n".join(pages),
    }
    return BuiltinAnswer(orjson.dumps(answer))


BUILTINS: Final[dict[str, Handler]] = {
    "qr-code": qr_code,
    "html-to-markdown": html_to_markdown,
    "pdf-to-text": pdf_to_text,
}
