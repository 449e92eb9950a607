"""Errors in pages are pages; /api keeps its OpenAI-shaped JSON."""

from __future__ import annotations

from tests.web.helpers import Browser


async def test_unknown_page_is_an_html_404_in_the_sites_style(browser: Browser) -> None:
    response = await browser.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Page not found" in response.text and "<h1>" in response.text
    assert "Traceback" not in response.text and response.text.lstrip().startswith("<!doctype html>")


async def test_api_paths_keep_their_json_errors(browser: Browser) -> None:
    response = await browser.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    unauthenticated = await browser.get("/api/v1/credits")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["code"] == "MISSING_AUTH_HEADER"


async def test_wrong_method_on_a_page_is_a_405_page(browser: Browser) -> None:
    response = await browser.client.put("/login")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")


async def test_pages_carry_security_headers_and_are_not_cached(browser: Browser) -> None:
    response = await browser.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "content-security-policy" not in (await browser.get("/healthz")).headers


async def test_an_htmx_request_for_a_signed_in_page_is_redirected_as_a_whole(browser: Browser) -> None:
    response = await browser.get("/dashboard/keys", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login?next=%2Fdashboard%2Fkeys"
