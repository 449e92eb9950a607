"""The public site at 1280 and 390 px, light and dark: every page checked by axe-core and for
horizontal overflow, and saved as site-<page>-<width>-<theme>.png to be looked at. The
status page is shown after real traffic: requests through the live server, one provider
that refuses connections (its failures fail over to the simulator and open its circuit),
and a rollup round, as a replica's background loop runs it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from playwright.sync_api import Page, expect

from modelsnest.health import aggregate_pending
from tests.live import Platform, ServerProcess, free_port
from tests.web.browser.harness import capture


async def _traffic(server: ServerProcess) -> None:
    platform = Platform(server.database_url)
    try:
        account = await platform.account(credits="5")
        dead = await platform.provider(
            "openai", f"http://127.0.0.1:{free_port()}", api_key="sk-test", connect_timeout=0.5
        )
        flaky = await platform.model([(dead, "gpt-x", 1), ("simulator", "deepseek", 2)])
        headers = {"Authorization": f"Bearer {account.token}"}
        async with httpx.AsyncClient(base_url=server.api_base, headers=headers, timeout=30) as client:
            for model in ["deepseek"] * 6 + [flaky] * 6 + ["text-embedding-3-small"]:
                body = {
                    "model": model,
                    "messages": [{"role": "user", "content": "Hello there"}],
                    "max_tokens": 16,
                }
                if model.startswith("text-embedding"):
                    await client.post("/embeddings", json={"model": model, "input": "hello"})
                else:
                    await client.post("/chat/completions", json=body)
        await asyncio.sleep(1.0)  # the server's background loop persists the breaker's events
        await aggregate_pending(platform.sessions, settle_seconds=0)
    finally:
        await platform.close()


@pytest.fixture(scope="module")
def site_traffic(live_site: ServerProcess) -> Iterator[None]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _traffic(live_site)).result()
    yield


def test_landing_and_pricing(page: Page) -> None:
    capture(page, "/", "site-landing")
    capture(page, "/pricing", "site-pricing")


def test_models(page: Page) -> None:
    capture(page, "/models", "site-models")
    capture(page, "/models/deepseek", "site-model-deepseek")

    def search(p: Page) -> None:
        p.get_by_label("Search models").fill("whisper")
        expect(p.locator("#model-results-title")).to_contain_text("matching “whisper”")

    capture(page, "/models", "site-models-search", before=search)


def test_documentation(page: Page) -> None:
    capture(page, "/reference", "site-reference")
    capture(page, "/reference/chat-completions", "site-reference-chat")
    capture(page, "/tutorials/first-request", "site-tutorial")
    capture(page, "/blog", "site-blog")
    capture(page, "/blog/why-we-bill-in-nano-dollars", "site-blog-post")
    capture(page, "/help", "site-help")
    capture(page, "/help/error-codes", "site-help-article")
    capture(page, "/terms", "site-legal-terms")


def test_explorer(page: Page, live_site: ServerProcess) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    def loaded(p: Page) -> None:
        expect(p.locator("#swagger-ui .opblock").first).to_be_visible()

    capture(page, "/api-docs", "site-api-docs", before=loaded)
    # Swagger UI, its schema and everything it fetched came from this server, nothing else.
    assert any(url.endswith("/api/openapi.json") for url in requested)
    assert [url for url in requested if not url.startswith(live_site.base_url)] == []
    page.locator(".opblock-post .opblock-summary-control").first.click()
    expect(page.locator(".opblock.is-open .opblock-body").first).to_be_visible()


def test_landing_code_tabs_switch_and_remember(page: Page) -> None:
    page.goto("/")
    page.get_by_role("tab", name="Python").click()
    expect(page.locator("#showcase-panel-python")).to_be_visible()
    expect(page.locator("#showcase-panel-curl")).to_be_hidden()
    page.goto("/models/deepseek")  # the choice follows the visitor to other examples
    expect(page.get_by_role("tab", name="Python (openai SDK)")).to_have_attribute("aria-selected", "true")


def test_contact(page: Page) -> None:
    capture(page, "/contact", "site-contact")


def test_status(page: Page, site_traffic: None) -> None:
    capture(page, "/status", "site-status")


def test_not_found(page: Page) -> None:
    capture(page, "/no/such/page", "site-not-found")
