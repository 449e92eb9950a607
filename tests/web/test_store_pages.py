"""``/dashboard``, the API Store: the catalog as cards, filtered by category and search
(query string without JavaScript, the results fragment for htmx), each card priced, with
its status, its docs and a way to try it; signed-in customers only."""

from __future__ import annotations

import re

from tests.web.helpers import Browser


def _cards(html: str) -> list[str]:
    return re.findall(r'<li class="model-card store-card" data-model="([^"]+)"', html)


async def test_anonymous_visitors_are_sent_to_sign_in(site: Browser) -> None:
    response = await site.get("/dashboard?category=text&q=llama")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert "%2Fdashboard%3Fcategory%3Dtext%26q%3Dllama" in response.headers["location"]


async def test_the_store_lists_every_callable_model_with_price_status_and_links(site: Browser) -> None:
    await site.sign_up("store@example.com")
    page = await site.get("/dashboard")
    assert page.status_code == 200
    directory = await site.services.directory.get()
    assert _cards(page.text) == [m.slug for m in directory.models]
    assert "<h1>API Store</h1>" in page.text and 'aria-current="page"' in page.text
    # A chat model: its price per 1K tokens, its status, its docs and "Try it" in the playground.
    card = page.text.split('data-model="deepseek"', 1)[1].split("</li>", 1)[0]
    assert "Input" in card and "/ 1K tokens" in card and "Active" in card
    assert 'href="/models/deepseek"' in card
    assert 'href="/dashboard/playground?model=deepseek"' in card and "Try it" in card
    assert "Served by Built-in simulator" in card
    # Another modality: no playground, its docs' quick start instead.
    image = page.text.split('data-model="dall-e-3"', 1)[1].split("</li>", 1)[0]
    assert "/ image" in image and "/dashboard/playground" not in image
    assert 'href="/models/dall-e-3#steps-title"' in image


async def test_category_filter_and_search_work_by_query_string(site: Browser) -> None:
    await site.sign_up("filters@example.com")
    images = await site.get("/dashboard?category=image")
    slugs = _cards(images.text)
    assert "dall-e-3" in slugs and "deepseek" not in slugs
    assert 'value="image" checked' in images.text
    found = await site.get("/dashboard?q=llama+instruct")
    slugs = _cards(found.text)
    assert slugs and all("llama" in s for s in slugs)
    assert "matching “llama instruct”" in found.text
    both = await site.get("/dashboard?category=multimodal&q=llama")
    assert set(_cards(both.text)) == {"llama-4-maverick", "llama-4-scout"}


async def test_htmx_gets_only_the_results_fragment(site: Browser) -> None:
    await site.sign_up("htmx@example.com")
    response = await site.get(
        "/dashboard?q=whisper", headers={"HX-Request": "true", "HX-Target": "store-results"}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="store-results"')
    assert "<html" not in response.text
    assert "whisper-1" in _cards(response.text) and "deepseek" not in _cards(response.text)


async def test_no_match_shows_the_empty_state(site: Browser) -> None:
    await site.sign_up("empty@example.com")
    response = await site.get("/dashboard?q=no-such-model-anywhere")
    assert _cards(response.text) == []
    assert "No model matches" in response.text and 'href="/dashboard">Show every model' in response.text


async def test_an_unknown_category_shows_everything(site: Browser) -> None:
    await site.sign_up("unknown@example.com")
    response = await site.get("/dashboard?category=nope")
    assert len(_cards(response.text)) == len((await site.services.directory.get()).models)
