"""``test_product``: one unbilled call, as an operator checks a product (CLI, admin panel)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import httpx

from modelsnest.crypto import SecretBox
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import ModelsnestError, NotFound
from modelsnest.store.builtins import BUILTINS, BuiltinRequest, Fetch
from modelsnest.store.network import extensions, fetcher, new_client, prepare_upstream
from modelsnest.store.products import ProductCache
from modelsnest.store.safety import check_path
from modelsnest.store.types import ProbeResult


async def probe_product(
    sessions: SessionFactory,
    box: SecretBox,
    slug: str,
    *,
    path: str = "",
    method: str = "GET",
    client: httpx.AsyncClient | None = None,
) -> ProbeResult:
    """Call the product once (its upstream with the operator's credentials, or its built-in
    handler on a sample) and say what came back; nothing is billed."""
    product = await ProductCache(sessions, box, ttl_seconds=0).get(slug)
    if product is None:
        raise NotFound(f"No store product {slug!r}.", code="PRODUCT_NOT_FOUND", param="slug")
    view = product.view
    own = client is None
    http = client or new_client()
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        if view.handler is not None:
            answer = await BUILTINS[view.handler](sample(view.handler, fetcher(http, view)))
            return ProbeResult(True, answer.status, elapsed(), len(answer.body), answer.media_type)
        url, target, headers = await prepare_upstream(product, check_path(path), "", [])
        parts = httpx.URL(url)
        request = http.build_request(
            method.upper(),
            target.url(parts.raw_path.decode("ascii")),
            headers=headers,
            extensions=extensions(target, view.timeout_seconds),
        )
        size = 0
        async with asyncio.timeout(view.timeout_seconds):
            response = await http.send(request, stream=True)
            try:
                async for chunk in response.aiter_raw():
                    size += len(chunk)
                    if size > view.max_response_bytes:
                        break
            finally:
                await response.aclose()
        ok = 200 <= response.status_code < 300
        return ProbeResult(
            ok, response.status_code, elapsed(), size, response.headers.get("content-type", "")
        )
    except (ModelsnestError, httpx.HTTPError, TimeoutError) as exc:
        detail = exc.message if isinstance(exc, ModelsnestError) else type(exc).__name__ or "timeout"
        return ProbeResult(False, None, elapsed(), 0, detail or "timed out")
    finally:
        if own:
            await http.aclose()


def sample(handler: str, fetch: Fetch) -> BuiltinRequest:
    samples: Mapping[str, tuple[str, str, dict[str, list[str]], str]] = {
        "qr-code": ("GET", "generate", {"data": ["https://modelsnest.example"]}, ""),
        "html-to-markdown": ("POST", "convert", {}, "text/html"),
        "pdf-to-text": ("POST", "extract", {}, "application/pdf"),
    }
    method, path, query, content_type = samples[handler]
    body = {
        "html-to-markdown": b"<h1>Test</h1><p>It <b>works</b>.</p>",
        "pdf-to-text": sample_pdf() if handler == "pdf-to-text" else b"",
    }.get(handler, b"")
    return BuiltinRequest(method, path, query, content_type, body, fetch)


def sample_pdf(text: str = "Modelsnest store test") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())
