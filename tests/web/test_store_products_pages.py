"""The API Store's products in the dashboard: cards beside the models (kind and category
filters, search), a product's page (docs rendered safely, endpoint, price, curl) and its
"try it" builder, which calls the product through the store's own code path as the
signed-in user and bills exactly what an API call would (usage row with origin "store")."""

from __future__ import annotations

import base64
import re

from sqlalchemy import func, select, update

from modelsnest import billing
from modelsnest.db.models import StoreProduct, UsageLog
from tests.web.dashboard_data import customer
from tests.web.helpers import Browser, csrf_of

QR_QUERY = "data=https%3A%2F%2Fexample.com&format=png&size=4"


def _products(html: str) -> list[str]:
    return re.findall(r'<li class="model-card store-card product-card" data-product="([^"]+)"', html)


def _models(html: str) -> list[str]:
    return re.findall(r'<li class="model-card store-card" data-model="([^"]+)"', html)


async def _qr_price(site: Browser) -> int:
    return (await site.services.store.get_product("qr-code")).price_per_call_nanos


async def test_products_are_listed_beside_the_models_with_price_docs_and_try_it(site: Browser) -> None:
    await site.sign_up("cards@example.com")
    page = await site.get("/dashboard")
    assert page.status_code == 200
    assert {"qr-code", "html-to-markdown", "pdf-to-text"} <= set(_products(page.text))
    assert _models(page.text)  # the models are still there
    card = page.text.split('data-product="qr-code"', 1)[1].split("</li>", 1)[0]
    assert "QR" in card and "Utilities" in card and "/ call" in card and "$0.0002" in card
    assert 'href="/dashboard/store/qr-code"' in card and 'href="/dashboard/store/qr-code#try-it"' in card
    pdf = page.text.split('data-product="pdf-to-text"', 1)[1].split("</li>", 1)[0]
    assert "/ MB" in pdf
    # Product categories are chips of the category filter; the kind filter is there too.
    assert (
        'name="category" value="utilities"' in page.text and 'name="category" value="scraping"' in page.text
    )
    assert 'name="kind" value="apis"' in page.text and 'name="kind" value="models"' in page.text
    # Never the upstream or its secret.
    assert "upstream" not in card.lower()


async def test_kind_category_and_search_filter_products_and_models(site: Browser) -> None:
    await site.sign_up("filters@example.com")
    apis = await site.get("/dashboard?kind=apis")
    assert _models(apis.text) == [] and "qr-code" in _products(apis.text)
    assert 'value="apis" checked' in apis.text
    models = await site.get("/dashboard?kind=models")
    assert _products(models.text) == [] and _models(models.text)
    scraping = await site.get("/dashboard?category=scraping")
    assert _products(scraping.text) == ["html-to-markdown"] and _models(scraping.text) == []
    assert 'value="scraping" checked' in scraping.text and "in scraping" in scraping.text
    images = await site.get("/dashboard?category=image")
    assert _products(images.text) == [] and "dall-e-3" in _models(images.text)
    found = await site.get("/dashboard?q=qr+code")
    assert _products(found.text) == ["qr-code"] and _models(found.text) == []
    none = await site.get("/dashboard?kind=apis&q=no-such-api-anywhere")
    assert "No API matches" in none.text
    fragment = await site.get(
        "/dashboard?q=markdown", headers={"HX-Request": "true", "HX-Target": "store-results"}
    )
    assert fragment.text.lstrip().startswith('<section id="store-results"')
    assert "html-to-markdown" in _products(fragment.text)


def _chip_counts(html: str) -> dict[str, int]:
    """The number on each filter chip, by the id of its count ("kind-apis", "category-image")."""
    return {name: int(n) for name, n in re.findall(r'id="count-([\w-]+)"[^>]*>(\d+)<', html)}


async def test_each_chip_counts_what_it_would_show_with_the_other_filters_kept(site: Browser) -> None:
    await site.sign_up("counts@example.com")
    everything = _chip_counts((await site.get("/dashboard")).text)
    models = len(_models((await site.get("/dashboard?kind=models")).text))
    apis = len(_products((await site.get("/dashboard?kind=apis")).text))
    assert everything["kind-models"] == models and everything["kind-apis"] == apis
    assert everything["kind-all"] == everything["category-all"] == models + apis

    # With APIs chosen, a category counts its APIs only: models' categories count 0.
    apis_only = _chip_counts((await site.get("/dashboard?kind=apis")).text)
    assert apis_only["category-all"] == apis
    assert apis_only["category-image"] == 0 and everything["category-image"] > 0
    assert apis_only["category-utilities"] == everything["category-utilities"] >= 1
    assert apis_only["kind-models"] == models  # the kind chips keep counting every kind

    # A category and a search narrow the kind chips; the kind narrows the category chips.
    images = _chip_counts((await site.get("/dashboard?category=image")).text)
    image_models = len(_models((await site.get("/dashboard?category=image")).text))
    assert images["kind-models"] == image_models and images["kind-apis"] == 0
    searched = _chip_counts((await site.get("/dashboard?kind=models&q=llama")).text)
    llamas = len(_models((await site.get("/dashboard?q=llama")).text))
    assert searched["category-all"] == searched["kind-models"] == llamas and searched["kind-apis"] == 0

    # htmx swaps only the results: the numbers come along out of band, the full page has none.
    fragment = await site.get(
        "/dashboard?kind=apis", headers={"HX-Request": "true", "HX-Target": "store-results"}
    )
    assert _chip_counts(fragment.text) == apis_only
    assert fragment.text.count('hx-swap-oob="true"') == len(apis_only)
    assert "hx-swap-oob" not in (await site.get("/dashboard?kind=apis")).text


async def test_the_product_page_shows_docs_endpoint_price_and_curl(site: Browser) -> None:
    await site.sign_up("page@example.com")
    page = await site.get("/dashboard/store/qr-code")
    assert page.status_code == 200
    assert "<h1>QR Code Generator</h1>" in page.text
    assert "table-scroll" in page.text and "<th>Parameter</th>" in page.text  # the docs' table
    assert page.text.count("<h1") == 1  # the docs' own title is the page's
    assert "/api/v1/store/qr-code/{path}" in page.text
    assert "curl -X GET" in page.text and "/api/v1/store/qr-code/generate" in page.text
    assert "$0.0002" in page.text
    assert '<option value="GET" selected>GET</option>' in page.text
    assert 'name="csrf_token"' in page.text and 'id="try-body"' in page.text


async def test_docs_are_rendered_safely(site: Browser) -> None:
    async with site.services.sessions() as session, session.begin():
        await session.execute(
            update(StoreProduct)
            .where(StoreProduct.slug == "qr-code")
            .values(
                docs_markdown='# Hi\n\n<script>alert("x")</script>\n\n[bad](javascript:alert(1)) **bold**\n'
            )
        )
    site.services.store.cache.invalidate()
    await site.sign_up("safe@example.com")
    page = await site.get("/dashboard/store/qr-code")
    docs = page.text.split('class="prose store-docs"', 1)[1].split('id="try-it"', 1)[0]
    assert "<script>" not in docs and 'href="javascript:' not in docs
    assert "<strong>bold</strong>" in docs


async def test_try_it_returns_a_png_preview_and_charges_the_price_once(site: Browser) -> None:
    user_id = await customer(site, "try@example.com", credits_usd=1)
    price = await _qr_price(site)
    before = (await billing.get_balance(site.services.sessions, user_id)).available_nanos
    response = await site.submit(
        "/dashboard/store/qr-code",
        "/dashboard/store/qr-code/try",
        {"method": "GET", "path": "generate", "query": QR_QUERY, "body": "", "content_type": ""},
    )
    assert response.status_code == 200
    match = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', response.text)
    assert match is not None
    assert base64.b64decode(match.group(1)).startswith(b"\x89PNG\r\n\x1a\n")
    assert 'data-status="200"' in response.text
    assert f'data-cost="{price}"' in response.text
    after = (await billing.get_balance(site.services.sessions, user_id)).available_nanos
    assert before - after == price
    async with site.services.sessions() as session:
        rows = (await session.execute(select(UsageLog).where(UsageLog.user_id == user_id))).scalars().all()
    assert len(rows) == 1
    assert rows[0].origin == "store" and rows[0].model_slug == "store/qr-code"
    assert rows[0].cost_nanos == price


async def test_try_it_shows_a_refusal_and_charges_nothing(site: Browser) -> None:
    user_id = await customer(site, "bad@example.com", credits_usd=1)
    response = await site.submit(
        "/dashboard/store/qr-code",
        "/dashboard/store/qr-code/try",
        {"method": "GET", "path": "nope", "query": "", "body": ""},
    )
    assert response.status_code == 200
    assert 'data-status="404"' in response.text and "Nothing was charged" in response.text
    bad = await site.submit(
        "/dashboard/store/qr-code", "/dashboard/store/qr-code/try", {"path": "generate", "query": "size=99"}
    )
    assert 'data-status="400"' in bad.text and "Nothing was charged" in bad.text
    assert (await billing.get_balance(site.services.sessions, user_id)).available_nanos == 10**9


async def test_htmx_gets_only_the_result_panel(site: Browser) -> None:
    await customer(site, "htmx-try@example.com", credits_usd=1)
    page = await site.get("/dashboard/store/qr-code")
    response = await site.post(
        "/dashboard/store/qr-code/try",
        {"csrf_token": csrf_of(page.text), "path": "generate", "query": "data=hi&format=svg"},
        headers={"HX-Request": "true", "HX-Target": "try-result"},
    )
    assert response.text.lstrip().startswith('<section id="try-result"')
    assert 'src="data:image/svg+xml;base64,' in response.text


async def test_try_it_without_csrf_is_refused_and_costs_nothing(site: Browser) -> None:
    user_id = await customer(site, "csrf@example.com", credits_usd=1)
    response = await site.post("/dashboard/store/qr-code/try", {"path": "generate", "query": QR_QUERY})
    assert response.status_code == 403
    async with site.services.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(UsageLog).where(UsageLog.user_id == user_id)
        )
    assert count == 0


async def test_anonymous_visitors_are_sent_to_sign_in(site: Browser) -> None:
    page = await site.get("/dashboard/store/qr-code")
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")


async def test_unknown_and_disabled_products_are_404_pages(site: Browser) -> None:
    await customer(site, "gone@example.com", credits_usd=1)
    assert (await site.get("/dashboard/store/no-such-api")).status_code == 404
    page = await site.get("/dashboard/store/qr-code")
    token = csrf_of(page.text)
    await site.services.store.set_active("qr-code", False)
    missing = await site.get("/dashboard/store/qr-code")
    assert missing.status_code == 404 and "API not found" in missing.text
    tried = await site.post("/dashboard/store/qr-code/try", {"csrf_token": token, "path": "generate"})
    assert tried.status_code == 404
    assert "qr-code" not in _products((await site.get("/dashboard")).text)


async def test_a_json_answer_is_pretty_printed_and_escaped(site: Browser) -> None:
    user_id = await customer(site, "json@example.com", credits_usd=1)
    price = (await site.services.store.get_product("html-to-markdown")).price_per_call_nanos
    page = await site.get("/dashboard/store/html-to-markdown")
    assert '<option value="POST" selected>POST</option>' in page.text
    response = await site.post(
        "/dashboard/store/html-to-markdown/try",
        {
            "csrf_token": csrf_of(page.text),
            "method": "POST",
            "path": "convert",
            "content_type": "text/html",
            "body": "<h1>Title</h1><p>Some <b>bold</b> text <script>alert(1)</script></p>",
        },
    )
    assert 'data-status="200"' in response.text
    shown = response.text.split('class="try-body"', 1)[1].split("</pre>", 1)[0]
    assert "\n  &#34;object&#34;: &#34;markdown&#34;" in shown  # indented, and escaped
    assert "<script>" not in shown and "<b>" not in shown
    after = (await billing.get_balance(site.services.sessions, user_id)).available_nanos
    assert after == 10**9 - price
