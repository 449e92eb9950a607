"""``/dashboard/billing``: balance, top-up through the configured providers (the fake Stripe
server of the payments tests), the return pages, the ledger, payments, invoices (HTML and
PDF) and auto-recharge with a saved card. Never another user's payment or invoice."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from modelsnest import billing
from modelsnest.auth.caller import Caller
from tests.fakes.coinbase_api import FakeCoinbase
from tests.fakes.paypal_api import FakePayPal
from tests.fakes.stripe_api import FakeStripe
from tests.payments.conftest import PUBLIC_URL, Fakes, payment_settings
from tests.web.dashboard_data import USD, customer, other_visitor
from tests.web.helpers import Browser, browser_for, csrf_of


@pytest.fixture
async def shop(sqlite_url: str, tmp_path: Path) -> AsyncIterator[tuple[Browser, FakeStripe]]:
    async with FakeStripe() as stripe, FakePayPal() as paypal, FakeCoinbase() as coinbase:
        settings = payment_settings(sqlite_url, tmp_path, Fakes(stripe, paypal, coinbase))
        # Served at MODELSNEST_PUBLIC_URL (https): the cookies are Secure, as in production.
        async with browser_for(settings, base_url=PUBLIC_URL) as browser:
            yield browser, stripe


def leaving_for(response: httpx.Response) -> str:
    """The provider's page a POST hands the browser on to (a page that refreshes to it: the
    CSP's form-action 'self' would block a redirect), the same URL as its button."""
    assert response.status_code == 200, response.text[:3000]
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', response.text)
    button = re.search(r'<a class="btn btn-primary" id="continue-to-provider" href="([^"]+)">', response.text)
    assert refresh is not None and button is not None
    assert refresh.group(1) == button.group(1)
    return html.unescape(refresh.group(1))


def _path(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
    return f"{parts.path}?{parts.query}"


async def _start_top_up(browser: Browser, stripe: FakeStripe, amount: str = "12.50") -> str:
    started = await browser.submit(
        "/dashboard/billing", "/dashboard/billing/top-up", {"amount_usd": amount, "provider": "stripe"}
    )
    url = leaving_for(started)
    assert url.startswith(stripe.url)
    session_id = url.rsplit("/", 1)[-1]
    assert session_id in stripe.sessions
    return session_id


async def test_anonymous_visitors_are_sent_to_sign_in(browser: Browser) -> None:
    for path in (
        "/dashboard/billing",
        "/dashboard/billing/top-up",
        "/dashboard/billing/transactions",
        "/dashboard/billing/payments",
        "/dashboard/billing/payments/pay_x",
        "/dashboard/billing/invoices",
        "/dashboard/billing/invoices/MN-1",
        "/dashboard/billing/invoices/MN-1.pdf",
        "/dashboard/billing/card/return?session_id=cs_x",
    ):
        response = await browser.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path


async def test_without_a_provider_the_page_says_credits_cannot_be_bought(browser: Browser) -> None:
    await customer(browser, "noprovider@example.com")
    page = await browser.get("/dashboard/billing")
    assert page.status_code == 200
    assert "Buying credits is not available yet" in page.text
    assert "$20.00" in page.text  # available, balance
    refused = await browser.post(
        "/dashboard/billing/top-up",
        {"csrf_token": csrf_of(page.text), "amount_usd": "10", "provider": "stripe"},
    )
    assert refused.status_code == 400
    assert "Buying credits is not available yet" in refused.text
    assert "No payment provider (Stripe, PayPal or Coinbase) is configured on this server" in refused.text
    card = await browser.post("/dashboard/billing/card", {"csrf_token": csrf_of(page.text)})
    assert card.status_code == 400 and "Cards cannot be saved here" in card.text


async def test_every_form_is_refused_without_its_csrf_token(shop: tuple[Browser, FakeStripe]) -> None:
    browser, stripe = shop
    await customer(browser, "csrf@example.com")
    for path, data in (
        ("/dashboard/billing/top-up", {"amount_usd": "10", "provider": "stripe"}),
        ("/dashboard/billing/auto-recharge", {"enabled": "on", "threshold_usd": "5", "amount_usd": "20"}),
        ("/dashboard/billing/card", {}),
        ("/dashboard/billing/card/remove", {}),
    ):
        response = await browser.post(path, data)
        assert response.status_code == 403, path
        assert "This form has expired" in response.text
    assert stripe.sessions == {}


async def test_a_bad_amount_is_a_clear_error_next_to_the_field(shop: tuple[Browser, FakeStripe]) -> None:
    browser, stripe = shop
    await customer(browser, "amounts@example.com")
    for amount, message in (
        ("ten", "The amount must be a decimal number of dollars"),
        ("1", "The smallest top-up is $5.00"),
        ("20000", "The largest top-up is $10000.00"),
        ("10.001", "with at most two decimals"),
        ("", "Enter the amount to add, in dollars"),
    ):
        response = await browser.submit(
            "/dashboard/billing", "/dashboard/billing/top-up", {"amount_usd": amount, "provider": "stripe"}
        )
        assert response.status_code == 400, amount
        assert 'id="page-amount-error"' in response.text, amount
        assert message in response.text, (amount, response.text[:200])
    unknown = await browser.submit(
        "/dashboard/billing", "/dashboard/billing/top-up", {"amount_usd": "10", "provider": "bitcoin"}
    )
    assert unknown.status_code == 400 and 'id="page-provider-error"' in unknown.text
    assert stripe.sessions == {}


async def test_a_stripe_top_up_credits_the_balance_with_an_invoice_and_a_notification(
    shop: tuple[Browser, FakeStripe],
) -> None:
    browser, stripe = shop
    user_id = await customer(browser, "buyer@example.com")
    page = await browser.get("/dashboard/billing")
    assert 'name="amount_usd"' in page.text and 'value="stripe"' in page.text and "Card (Stripe)" in page.text

    session_id = await _start_top_up(browser, stripe, "12.50")
    assert stripe.sessions[session_id]["amount_total"] == 1250
    stripe.pay(session_id)
    back = await browser.get(_path(stripe.sessions[session_id]["success_url"]))

    assert back.status_code == 200
    assert "Payment received: $12.50 has been added to your credits." in back.text
    assert 'class="result-balance"' in back.text and "$32.50" in back.text
    assert (await billing.get_balance(browser.services.sessions, user_id)).balance_nanos == 32_500_000_000
    assert await billing.verify_invariants(browser.services.sessions) == []

    invoices = await browser.get("/dashboard/billing/invoices")
    number = invoices.text.split('href="/dashboard/billing/invoices/')[1].split('"')[0]
    assert number.startswith("MN-") and "$12.50" in invoices.text
    invoice = await browser.get(f"/dashboard/billing/invoices/{number}")
    assert invoice.status_code == 200 and 'class="invoice"' in invoice.text and "12.50" in invoice.text
    pdf = await browser.get(f"/dashboard/billing/invoices/{number}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    payments = await browser.get("/dashboard/billing/payments")
    assert "Completed" in payments.text and number in payments.text
    ledger = await browser.get("/dashboard/billing/transactions?type=topup")
    assert "+$12.50" in ledger.text and "Test credits" not in ledger.text
    notes = await browser.get("/dashboard/notifications")
    assert "Payment received: $12.50 added to your credits" in notes.text
    assert 'aria-label="Notifications: 1 unread"' in notes.text

    # Coming back again (a reload) credits nothing more.
    again = await browser.get(_path(stripe.sessions[session_id]["success_url"]))
    assert again.status_code == 200
    assert (await billing.get_balance(browser.services.sessions, user_id)).balance_nanos == 32_500_000_000


async def test_the_cancel_page_says_no_money_was_taken(shop: tuple[Browser, FakeStripe]) -> None:
    browser, stripe = shop
    await customer(browser, "cancel@example.com")
    session_id = await _start_top_up(browser, stripe, "10")
    page = await browser.get(_path(stripe.sessions[session_id]["cancel_url"]))
    assert page.status_code == 200 and "The payment was cancelled. No money was taken." in page.text
    waiting_id = await _start_top_up(browser, stripe, "10")
    waiting = await browser.get(_path(stripe.sessions[waiting_id]["success_url"]))
    assert "We have not received your payment of $10.00 yet." in waiting.text
    assert waiting.headers.get("refresh") == "5"
    forged = await browser.get(_path(stripe.sessions[waiting_id]["success_url"]).replace("rt=", "rt=x"))
    assert forged.status_code == 404 and "This payment link is not valid." in forged.text


async def test_another_users_payment_and_invoice_are_not_found(shop: tuple[Browser, FakeStripe]) -> None:
    browser, stripe = shop
    await customer(browser, "owner@example.com")
    session_id = await _start_top_up(browser, stripe, "10")
    stripe.pay(session_id)
    await browser.get(_path(stripe.sessions[session_id]["success_url"]))
    payments = (await browser.get("/dashboard/billing/payments")).text
    payment_id = payments.split('href="/dashboard/billing/payments/')[1].split('"')[0]
    number = payments.split('href="/dashboard/billing/invoices/')[1].split('"')[0]
    assert (await browser.get(f"/dashboard/billing/payments/{payment_id}")).status_code == 200

    async with other_visitor(browser) as client:
        other = Browser(client, browser.app)
        await customer(other, "other@example.com", credits_usd=0)
        for path, title in (
            (f"/dashboard/billing/payments/{payment_id}", "Payment not found"),
            (f"/dashboard/billing/invoices/{number}", "Invoice not found"),
            (f"/dashboard/billing/invoices/{number}.pdf", "Invoice not found"),
        ):
            response = await other.get(path)
            assert response.status_code == 404, path
            assert title in response.text and "12.50" not in response.text
        assert "No payments yet" in (await other.get("/dashboard/billing/payments")).text
        assert "No invoices yet" in (await other.get("/dashboard/billing/invoices")).text


async def test_the_ledger_filters_by_type_and_date(browser: Browser) -> None:
    await customer(browser, "ledger@example.com")
    everything = await browser.get("/dashboard/billing/transactions")
    assert "Test credits" in everything.text and "+$20.00" in everything.text
    assert "No transactions match" in (await browser.get("/dashboard/billing/transactions?type=usage")).text
    assert "Test credits" in (await browser.get("/dashboard/billing/transactions?type=bonus")).text
    old = await browser.get("/dashboard/billing/transactions?from=2020-01-01&to=2020-01-31")
    assert "No transactions match" in old.text
    for query, message in (
        ("type=gift", "Choose a transaction type"),
        ("from=soon", "YYYY-MM-DD"),
        ("from=2026-02-02&to=2026-01-01", "before the start date"),
    ):
        bad = await browser.get(f"/dashboard/billing/transactions?{query}")
        assert bad.status_code == 400 and message in bad.text, query


async def test_auto_recharge_saves_a_card_turns_on_and_removes_it(shop: tuple[Browser, FakeStripe]) -> None:
    browser, stripe = shop
    user_id = await customer(browser, "recharge@example.com")
    page = await browser.get("/dashboard/billing")
    assert "No card saved yet." in page.text
    turned_on_early = await browser.post(
        "/dashboard/billing/auto-recharge",
        {"csrf_token": csrf_of(page.text), "enabled": "on", "threshold_usd": "5", "amount_usd": "20"},
    )
    assert turned_on_early.status_code == 400 and "Save a card first" in turned_on_early.text

    started = await browser.post("/dashboard/billing/card", {"csrf_token": csrf_of(page.text)})
    url = leaving_for(started)
    assert url.startswith(stripe.url) and "Taking you to Stripe" in started.text
    session_id = url.rsplit("/", 1)[-1]
    assert stripe.sessions[session_id]["mode"] == "setup"
    assert stripe.sessions[session_id]["success_url"].startswith(
        f"{PUBLIC_URL}/dashboard/billing/card/return"
    )
    stripe.complete_setup(session_id)
    back = await browser.get(f"/dashboard/billing/card/return?session_id={session_id}")
    assert back.status_code == 303 and back.headers["location"] == "/dashboard/billing#auto-recharge"
    page = await browser.get("/dashboard/billing")
    assert "visa •••• 4242" in page.text and "Card saved" in page.text

    bad = await browser.post(
        "/dashboard/billing/auto-recharge",
        {"csrf_token": csrf_of(page.text), "enabled": "on", "threshold_usd": "-1", "amount_usd": "20"},
    )
    assert bad.status_code == 400 and 'id="f-recharge-threshold_usd-error"' in bad.text
    saved = await browser.post(
        "/dashboard/billing/auto-recharge",
        {"csrf_token": csrf_of(page.text), "enabled": "on", "threshold_usd": "7.50", "amount_usd": "25"},
    )
    assert saved.status_code == 303
    caller = Caller.signed_in(user_id, "user")
    view = await browser.services.payments.auto_recharge(caller)
    assert view.enabled and view.threshold_nanos == 7_500_000_000 and view.amount_nanos == 25 * USD

    removed = await browser.post("/dashboard/billing/card/remove", {"csrf_token": csrf_of(page.text)})
    assert removed.status_code == 303
    view = await browser.services.payments.auto_recharge(caller)
    assert not view.has_card and not view.enabled

    async with other_visitor(browser) as client:
        other = Browser(client, browser.app)
        await customer(other, "thief@example.com", credits_usd=0)
        stolen = await other.get(f"/dashboard/billing/card/return?session_id={session_id}")
        assert stolen.status_code == 404 and "Card setup not found" in stolen.text


async def test_the_ledger_is_paginated_newest_first(browser: Browser) -> None:
    user_id = await customer(browser, "pages@example.com", credits_usd=0)
    for i in range(27):
        await billing.top_up(
            browser.services.sessions,
            user_id=user_id,
            amount_nanos=(i + 1) * USD,
            idempotency_key=f"page-{i}",
            type="bonus",
            description=f"Bonus number {i + 1}",
        )
    first = await browser.get("/dashboard/billing/transactions?type=bonus")
    assert "Bonus number 27<" in first.text and "Bonus number 3<" in first.text
    assert "Bonus number 2<" not in first.text and "25 on this page" in first.text
    older = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert older is not None and "type=bonus" in older.group(1)
    second = await browser.get(html.unescape(older.group(1)))
    assert "Bonus number 2<" in second.text and "Bonus number 1<" in second.text
    assert "Bonus number 3<" not in second.text and 'rel="next"' not in second.text
