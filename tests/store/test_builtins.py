"""The products the platform serves itself go through the same key, rules, hold and
settlement as proxied ones: QR codes that decode back to their data, clean Markdown from
HTML (or a fetched page), text from PDFs."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import httpx
import pytest
import segno
import zxingcpp
from PIL import Image

from modelsnest.crypto import SecretBox
from modelsnest.money import usd_to_nanos
from modelsnest.store import products
from modelsnest.store.builtins import html_to_markdown_text
from modelsnest.store.seed import builtin_specs
from modelsnest.store.tester import sample_pdf
from modelsnest.store.types import ProductSpec
from tests.fakes.http_api import PAGE, FakeHttpApi
from tests.live import SECRET_KEY, Platform
from tests.store.conftest import bearer, settled

QR_PRICE = next(p["price_per_call_nanos"] for p in builtin_specs() if p["slug"] == "qr-code")

SAMPLE_MARKDOWN = "# Sample page\n\nSome **bold** and *italic* text with a [link](https://example.com/).\n\n## List\n\n- one\n- two\n"


async def test_a_qr_code_png_decodes_back_to_its_data_and_costs_the_products_price(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    account = await platform.account("1")
    data = "https://modelsnest.example/?q=ünïcode&x=1"
    response = await client.get(
        "/api/v1/store/qr-code/generate",
        params={"data": data, "format": "png", "size": "6"},
        headers=bearer(account.token),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(response.content))
    [decoded] = zxingcpp.read_barcodes(image.convert("L"))
    assert decoded.text == data
    version = segno.make(data, error="m", micro=False).version
    assert image.size == ((17 + 4 * version + 8) * 6,) * 2  # modules + 2×4 quiet zone, 6 px each
    balance = await settled(platform, account.user_id)
    assert balance.balance_nanos == usd_to_nanos("1") - QR_PRICE
    generation = await client.get(
        "/api/v1/generation", params={"id": response.headers["x-request-id"]}, headers=bearer(account.token)
    )
    record = json.loads(generation.text, parse_float=Decimal)
    assert record["model"] == "store/qr-code" and record["cost_usd"] == Decimal(QR_PRICE) / 10**9


async def test_a_qr_code_svg_is_an_svg_of_the_same_matrix(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    account = await platform.account("1")
    response = await client.get(
        "/api/v1/store/qr-code/generate",
        params={"data": "hello", "format": "svg"},
        headers=bearer(account.token),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    text = response.text
    assert "<svg" in text and "</svg>" in text
    expected = io.BytesIO()
    segno.make("hello", error="m", micro=False).save(expected, kind="svg", scale=8, border=4)
    assert response.content == expected.getvalue()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"data": "x", "format": "gif"},
        {"data": "x", "size": "0"},
        {"data": "x", "size": "big"},
        {"data": "x" * 2001},
    ],
)
async def test_bad_qr_parameters_are_400s_that_cost_nothing(
    client: httpx.AsyncClient, platform: Platform, params: dict[str, str]
) -> None:
    account = await platform.account("1")
    response = await client.get(
        "/api/v1/store/qr-code/generate", params=params, headers=bearer(account.token)
    )
    assert response.status_code == 400
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


async def test_only_the_documented_paths_and_methods(client: httpx.AsyncClient, platform: Platform) -> None:
    account = await platform.account("1")
    assert (await client.get("/api/v1/store/qr-code/other", headers=bearer(account.token))).status_code == 404
    assert (
        await client.post("/api/v1/store/qr-code/generate", headers=bearer(account.token))
    ).status_code == 405
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


def test_html_becomes_clean_markdown() -> None:
    markdown, title = html_to_markdown_text(PAGE)
    assert markdown == SAMPLE_MARKDOWN
    assert title == "Sample page"


async def test_html_to_markdown_from_a_body(client: httpx.AsyncClient, platform: Platform) -> None:
    account = await platform.account("1")
    response = await client.post(
        "/api/v1/store/html-to-markdown/convert",
        content=PAGE.encode(),
        headers=bearer(account.token) | {"Content-Type": "text/html; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "object": "markdown",
        "title": "Sample page",
        "source_url": None,
        "markdown": SAMPLE_MARKDOWN,
    }
    spec = next(p for p in builtin_specs() if p["slug"] == "html-to-markdown")
    balance = await settled(platform, account.user_id)
    assert balance.balance_nanos == usd_to_nanos("1") - spec["price_per_call_nanos"]


async def test_html_to_markdown_fetches_a_url_when_the_product_allows_that_network(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi
) -> None:
    await products.update_product(
        platform.sessions, SecretBox(SECRET_KEY), "html-to-markdown", ProductSpec(allow_private_network=True)
    )
    account = await platform.account("1")
    import asyncio

    await asyncio.sleep(0.2)  # the app's product cache
    url = f"{upstream.url}/page"
    response = await client.post(
        "/api/v1/store/html-to-markdown/convert", json={"url": url}, headers=bearer(account.token)
    )
    assert response.status_code == 200, response.text
    assert response.json()["markdown"] == SAMPLE_MARKDOWN and response.json()["source_url"] == url
    assert "authorization" not in upstream.requests[-1].headers


async def test_html_to_markdown_refuses_bad_input_for_free(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    account = await platform.account("1")
    for body, content_type in [
        (b"{not json", "application/json"),
        (b'{"x": 1}', "application/json"),
        (b"  ", "text/html"),
    ]:
        response = await client.post(
            "/api/v1/store/html-to-markdown/convert",
            content=body,
            headers=bearer(account.token) | {"Content-Type": content_type},
        )
        assert response.status_code == 400, body
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


async def test_pdf_to_text_extracts_each_page(client: httpx.AsyncClient, platform: Platform) -> None:
    account = await platform.account("1")
    response = await client.post(
        "/api/v1/store/pdf-to-text/extract",
        content=sample_pdf("Quarterly report 2026"),
        headers=bearer(account.token) | {"Content-Type": "application/pdf"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["page_count"] == 1 and answer["pages"][0]["text"].strip() == "Quarterly report 2026"
    spec = next(p for p in builtin_specs() if p["slug"] == "pdf-to-text")
    cost = spec["price_per_call_nanos"] + -(-spec["price_per_mb_nanos"] * len(response.content) // 1_000_000)
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1") - cost


async def test_pdf_to_text_refuses_what_is_not_a_pdf(client: httpx.AsyncClient, platform: Platform) -> None:
    account = await platform.account("1")
    for body in (b"hello", b"%PDF-1.4 broken"):
        response = await client.post(
            "/api/v1/store/pdf-to-text/extract", content=body, headers=bearer(account.token)
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "INVALID_PDF"
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")
