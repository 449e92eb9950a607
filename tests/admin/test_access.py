"""Only administrators reach ``/admin``: every route of the panel sends an anonymous visitor
to the sign-in page, answers a customer with the 403 page, and refuses a state change that
carries no CSRF token."""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts

from tests.admin.conftest import CUSTOMER_EMAIL, Panel
from tests.web.helpers import STRONG_PASSWORD, second_browser

SAMPLE_IDS = {"user_id": "1", "key_id": "1", "slug": "deepseek", "name": "simulator", "route_id": "1"}


def admin_routes(panel: Panel) -> list[tuple[str, str]]:
    found = []
    for route in iter_route_contexts(panel.browser.app.router.routes):
        route_path = str(route.path)
        if route_path.startswith("/admin"):
            path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE_IDS.get(m.group(1), "1"), route_path)
            for method in sorted(getattr(route, "methods", None) or ()):
                if method != "HEAD":
                    found.append((method, path))
    return found


async def test_the_panel_has_routes_for_every_section(panel: Panel) -> None:
    paths = {path for _, path in admin_routes(panel)}
    assert {"/admin", "/admin/users", "/admin/audit"} <= paths


async def test_an_anonymous_visitor_is_sent_to_sign_in_from_every_admin_route(panel: Panel) -> None:
    async with await second_browser(panel.browser) as anonymous:
        for method, path in admin_routes(panel):
            response = await anonymous.request(method, path)
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/login?next="), (method, path)


async def test_a_customer_gets_the_403_page_on_every_admin_route(panel: Panel) -> None:
    async with await second_browser(panel.browser) as client:
        login = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token is not None
        signed = await client.post(
            "/login",
            data={"csrf_token": token.group(1), "email": CUSTOMER_EMAIL, "password": STRONG_PASSWORD},
        )
        assert signed.status_code == 303
        dashboard = await client.get("/dashboard/keys")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', dashboard.text)
        assert csrf is not None
        for method, path in admin_routes(panel):
            data = {"csrf_token": csrf.group(1)} if method != "GET" else None
            response = await client.request(method, path, data=data)
            assert response.status_code == 403, (method, path, response.status_code)
            assert "Administrators only" in response.text, (method, path)


async def test_a_state_change_without_the_csrf_token_is_refused_on_every_admin_route(panel: Panel) -> None:
    before = await panel.browser.get("/admin/audit")
    assert before.status_code == 200
    for method, path in admin_routes(panel):
        if method == "GET":
            continue
        response = await panel.browser.client.request(method, path, data={"amount_usd": "5", "reason": "x"})
        assert response.status_code == 403, (method, path, response.status_code)
        assert "This form has expired" in response.text


async def test_an_administrator_opens_every_page_of_the_panel(panel: Panel) -> None:
    for method, path in admin_routes(panel):
        if method == "GET" and path.count("/") <= 2:
            response = await panel.browser.get(path, follow_redirects=True)
            assert response.status_code == 200, (path, response.text[:2000])
            if path.endswith(".csv"):
                assert response.headers["content-type"].startswith("text/csv")
            else:
                assert 'aria-label="Admin navigation"' in response.text
