"""The admin panel in a real browser: an operator finds a customer and tops them up with a
reason, and every page of the panel, at both widths and in both themes, passes axe."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from modelsnest.auth.api_keys import create_key
from modelsnest.auth.users import create_user
from modelsnest.catalog.price_input import parse_price
from modelsnest.catalog.prices import set_route_cost
from modelsnest.catalog.providers import list_routes
from modelsnest.db.engine import create_engine, create_session_factory
from modelsnest.db.models import User
from tests.live import ServerProcess
from tests.web.browser.flows import PASSWORD
from tests.web.browser.harness import capture

pytestmark = pytest.mark.browser

ADMIN = "operator@modelsnest.example"
CUSTOMER = "grace@customer.example"


async def _prepare(database_url: str) -> str:
    engine = create_engine(database_url, pool_size=2)
    sessions = create_session_factory(engine)
    try:
        await create_user(sessions, email=ADMIN, password=PASSWORD, role="admin")
        customer = await create_user(sessions, email=CUSTOMER, password=PASSWORD, credits_nanos=5 * 10**9)
        async with sessions.begin() as session:
            await session.execute(update(User).values(email_verified_at=datetime.now(UTC)))
            await session.execute(
                update(User).where(User.email == CUSTOMER).values(display_name="Grace Hopper")
            )
        [route] = await list_routes(sessions, "deepseek")
        await set_route_cost(
            sessions,
            route.id,
            parse_price("per_1k_tokens", {"input": "0.00007", "output": "0.0001"}),
            actor="test",
        )
        _, token = await create_key(sessions, user_id=customer.id, name="production")
        return token
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def admin_site(live_site: ServerProcess) -> ServerProcess:
    with ThreadPoolExecutor(max_workers=1) as pool:
        token = pool.submit(asyncio.run, _prepare(live_site.database_url)).result()
    for i in range(3):
        response = httpx.post(
            f"{live_site.api_base}/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"model": "deepseek", "messages": [{"role": "user", "content": f"Say hi {i}"}]},
            timeout=30,
        )
        assert response.status_code == 200, response.text
    return live_site


def _sign_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def test_an_admin_finds_a_user_and_tops_them_up_with_a_reason(page: Page, admin_site: ServerProcess) -> None:
    _sign_in(page)
    page.goto("/admin/users")
    page.get_by_label("Search users").fill("grace@")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=CUSTOMER).click()
    expect(page.get_by_role("heading", name=CUSTOMER)).to_be_visible()
    page.get_by_role("button", name="Top up").first.click()
    dialog = page.locator("dialog#topup")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Amount").fill("20")
    dialog.get_by_label("Reason").fill("Goodwill for the outage")
    dialog.get_by_role("button", name="Top up").click()
    expect(page.get_by_text("Added $20.00")).to_be_visible()
    balance = page.locator(".stat").filter(has_text="Balance").locator(".stat-value")
    expect(balance).to_have_text(re.compile(r"\$2\d\.\d\d"))
    expect(page.locator("#ledger")).to_contain_text("Goodwill for the outage")
    page.goto("/admin/audit")
    expect(page.locator("tbody")).to_contain_text("credits.topup")


def test_every_admin_page(page: Page, admin_site: ServerProcess) -> None:
    _sign_in(page)
    page.goto("/admin/users?q=grace")
    user_url = page.get_by_role("link", name=CUSTOMER).get_attribute("href")
    assert user_url is not None
    capture(page, "/admin", "admin-overview")
    capture(page, "/admin/users", "admin-users")
    capture(page, user_url, "admin-user")
    capture(
        page,
        user_url,
        "admin-user-topup",
        before=lambda p: p.get_by_role("button", name="Top up").first.click(),
    )
    capture(page, user_url + "/credits?kind=deduct", "admin-user-deduct")
    capture(page, "/admin/catalog", "admin-catalog")
    capture(page, "/admin/catalog/deepseek/edit", "admin-catalog-model")
    capture(page, "/admin/providers", "admin-providers")
    capture(page, "/admin/providers/simulator", "admin-provider")
    page.goto("/admin/providers/simulator")
    route_url = page.get_by_role("link", name="Upstream cost of deepseek", exact=True).get_attribute("href")
    assert route_url is not None
    capture(page, route_url, "admin-provider-route")
    capture(page, "/admin/ledger", "admin-ledger")
    capture(page, "/admin/payments", "admin-payments")
    capture(page, "/admin/usage", "admin-usage")
    capture(page, "/admin/audit", "admin-audit")
    capture(page, "/admin/consistency", "admin-consistency")
    capture(page, "/admin/payment-providers", "admin-payment-providers")


def test_the_store_pages(page: Page, admin_site: ServerProcess) -> None:
    _sign_in(page)
    capture(page, "/admin/store", "admin-store")
    page.goto("/admin/store")
    product_url = page.locator("#products tbody a").first.get_attribute("href")
    assert product_url is not None and product_url.startswith("/admin/store/")
    capture(page, product_url, "admin-store-product")
