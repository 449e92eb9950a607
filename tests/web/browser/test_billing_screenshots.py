"""The billing, usage and notification pages in a real browser, against a live server whose
Stripe is the fake Stripe of the payments tests: a signed-in user adds credits by card, comes
back to the return page with the new balance and an invoice, makes a request, and sees it in
the usage charts and list. Then every page at both widths and both themes (axe must pass)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.fakes import stripe_api
from tests.fakes.stripe_api import FakeStripe
from tests.live import ServerProcess, start_server
from tests.web.browser.conftest import _prepare_database
from tests.web.browser.flows import new_email, sign_up
from tests.web.browser.harness import capture


@pytest.fixture(scope="module")
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as stripe:
        yield stripe


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory, fake_stripe: FakeStripe) -> Iterator[ServerProcess]:
    """The browser suite's live server, with card payments through the fake Stripe."""
    directory = tmp_path_factory.mktemp("browser-billing")
    with ThreadPoolExecutor(max_workers=1) as pool:
        database_url = pool.submit(_prepare_database, directory).result()
    server = start_server(
        database_url,
        directory / "var",
        extra_env={
            "MODELSNEST_LOG_LEVEL": "WARNING",
            "MODELSNEST_STRIPE_SECRET_KEY": stripe_api.SECRET_KEY,
            "MODELSNEST_STRIPE_WEBHOOK_SECRET": stripe_api.WEBHOOK_SECRET,
            "MODELSNEST_STRIPE_API_BASE": fake_stripe.url,
            "MODELSNEST_COMPANY_NAME": "Modelsnest Test Ltd",
        },
    )
    yield server
    server.stop()


def _top_up_by_card(page: Page, stripe: FakeStripe, amount: str) -> str:
    page.goto("/dashboard/billing")
    page.get_by_role("button", name="Add credits").click()
    dialog = page.locator("#top-up-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Amount").fill(amount)
    dialog.get_by_label("Card (Stripe)").check()
    dialog.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(re.escape(stripe.url) + r"/c/pay/"))
    session_id = page.url.rsplit("/", 1)[-1]
    stripe.pay(session_id)  # the payer pays on Stripe's page; Stripe sends them back
    page.goto(stripe.sessions[session_id]["success_url"])
    return session_id


def _request_through_a_new_key(page: Page, base_url: str) -> None:
    page.goto("/dashboard/keys")
    page.get_by_label("Name").fill("browser test")
    page.get_by_role("button", name="Create key").click()
    token = page.locator("#new-key").inner_text().strip()
    reply = httpx.post(
        f"{base_url}/api/v1/chat/completions",
        json={"model": "deepseek", "messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 16},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text


def test_top_up_by_card_then_usage(page: Page, fake_stripe: FakeStripe, live_site: ServerProcess) -> None:
    sign_up(page, new_email())
    _top_up_by_card(page, fake_stripe, "10")

    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("$10.00 has been added to your credits")
    expect(page.locator(".result-balance")).to_have_text("$10.00")
    expect(page.locator(".header-balance")).to_contain_text("$10.00")
    page.get_by_role("link", name="View the invoice").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Invoice MN-"))).to_be_visible()
    expect(page.locator("article.invoice")).to_contain_text("$10.00")

    _request_through_a_new_key(page, live_site.base_url)
    page.goto("/dashboard/usage")
    expect(page.locator("[data-chart][data-drawn='true']")).to_have_count(3)
    expect(page.locator(".chart-canvas canvas").first).to_be_visible()
    row = page.locator("#requests tbody tr").filter(has_text="deepseek")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("browser test")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Request "))).to_be_visible()
    expect(page.locator("#generation-record")).to_contain_text('"object": "generation"')

    # Every page of the area, both widths, both themes.
    capture(page, "/dashboard/usage", "dashboard-usage")
    capture(page, "/dashboard/usage?range=7&split=key", "dashboard-usage-by-key")
    capture(page, page_url_of_request(page), "dashboard-usage-request")
    capture(page, "/dashboard/billing", "dashboard-billing")

    def open_top_up(p: Page) -> None:
        p.get_by_role("button", name="Add credits").click()
        expect(p.locator("#top-up-dialog")).to_be_visible()

    capture(page, "/dashboard/billing", "dashboard-billing-top-up-dialog", before=open_top_up)
    capture(page, "/dashboard/billing/top-up", "dashboard-billing-top-up")

    def too_little(p: Page) -> None:
        p.locator("#page-amount").fill("1")
        p.get_by_role("button", name="Continue to payment").click()
        expect(p.locator("#page-amount-error")).to_contain_text("The smallest top-up is $5.00")

    capture(page, "/dashboard/billing/top-up", "dashboard-billing-top-up-error", before=too_little)
    capture(page, "/dashboard/billing/transactions", "dashboard-billing-transactions")
    capture(page, "/dashboard/billing/payments", "dashboard-billing-payments")
    page.goto("/dashboard/billing/payments")
    payment_href = page.locator("#payments tbody a").first.get_attribute("href")
    assert payment_href is not None
    capture(page, payment_href, "dashboard-billing-payment")
    capture(page, "/dashboard/billing/invoices", "dashboard-billing-invoices")
    invoice_href = page.locator("#invoices tbody a.mono").first.get_attribute("href")
    assert invoice_href is not None
    capture(page, invoice_href, "dashboard-billing-invoice")
    session_id = next(iter(fake_stripe.sessions))
    capture(page, fake_stripe.sessions[session_id]["success_url"], "dashboard-billing-return")
    capture(page, "/dashboard/notifications", "dashboard-notifications")


def page_url_of_request(page: Page) -> str:
    page.goto("/dashboard/usage")
    href = page.locator("#requests tbody a").first.get_attribute("href")
    assert href is not None
    return href


def test_empty_states_and_a_cancelled_payment(page: Page, fake_stripe: FakeStripe) -> None:
    sign_up(page, new_email())
    capture(page, "/dashboard/usage", "dashboard-usage-empty")
    capture(page, "/dashboard/notifications", "dashboard-notifications-empty")
    capture(page, "/dashboard/billing/invoices", "dashboard-billing-invoices-empty")
    page.goto("/dashboard/billing/top-up")
    page.locator("#page-amount").fill("5")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(re.escape(fake_stripe.url)))
    session_id = page.url.rsplit("/", 1)[-1]
    cancel_url = fake_stripe.sessions[session_id]["cancel_url"]
    page.goto(cancel_url)
    expect(page.get_by_role("heading", name="Payment cancelled")).to_be_visible()
    capture(page, cancel_url, "dashboard-billing-cancelled")
