"""A refund from the admin panel: the money goes back at Stripe, the balance drops once (one
negative ledger row), Stripe's ``charge.refunded`` webhook for the same refund afterwards
changes nothing, the action is audited, and more than what is left is refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from modelsnest.auth.users import create_user
from modelsnest.db.models import AdminAudit, CreditTransaction
from tests.payments.conftest import PUBLIC_URL, USD, Account, Shop
from tests.web.helpers import STRONG_PASSWORD, Browser, csrf_of

ADMIN = "ops@modelsnest.example"


@pytest.fixture
async def admin(shop: Shop) -> AsyncIterator[Browser]:
    """An administrator signed in to the shop's first replica."""
    await create_user(shop.sessions, email=ADMIN, password=STRONG_PASSWORD, role="admin")
    app = shop.replicas[0].app
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL, timeout=30) as client:
        browser = Browser(client=client, app=app)
        signed = await browser.sign_in(ADMIN)
        assert signed.status_code == 303, signed.text[:2000]
        yield browser


async def _paid_by_card(shop: Shop, amount: str = "40.00") -> tuple[Account, str, str]:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "stripe", amount)
    session_id = (await shop.row(created["id"])).provider_checkout_id
    assert session_id is not None
    shop.fakes.stripe.pay(session_id)
    await shop.client.get(shop.return_url("stripe", session_id))
    assert await shop.balance(buyer) == 40 * USD
    return buyer, created["id"], session_id


async def _refund(browser: Browser, payment_id: str, **data: str) -> tuple[int, str]:
    url = f"/admin/payments/{payment_id}"
    page = await browser.get(url)
    assert page.status_code == 200, page.text[:2000]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key is not None
    answer = await browser.post(
        url + "/refund", {"csrf_token": csrf_of(page.text), "idempotency_key": key.group(1), **data}
    )
    return answer.status_code, answer.text


async def _refund_rows(shop: Shop) -> list[CreditTransaction]:
    async with shop.sessions() as session:
        return list(
            await session.scalars(select(CreditTransaction).where(CreditTransaction.type == "payment_refund"))
        )


async def test_the_refund_form_offers_the_full_amount(shop: Shop, admin: Browser) -> None:
    browser = admin
    _, payment_id, _ = await _paid_by_card(shop)
    page = await browser.get(f"/admin/payments/{payment_id}")
    assert 'value="40.00"' in page.text and 'name="reason"' in page.text


async def test_a_panel_refund_takes_the_credits_back_once_even_when_the_webhook_follows(
    shop: Shop, admin: Browser
) -> None:
    browser = admin
    buyer, payment_id, session_id = await _paid_by_card(shop)
    status, _ = await _refund(browser, payment_id, amount_usd="15.00", reason="Customer asked")
    assert status == 303
    assert await shop.balance(buyer) == 25 * USD
    assert len(shop.fakes.stripe.refunds) == 1 and shop.fakes.stripe.refunds[0]["amount"] == 1500
    assert (await shop.row(payment_id)).status == "partially_refunded"

    # Stripe then tells us about the same refund (cumulative amount_refunded = 1500).
    intent = shop.fakes.stripe.sessions[session_id]["payment_intent"]
    charge = shop.fakes.stripe.charges[shop.fakes.stripe.intents[intent]["latest_charge"]]
    hook = await shop.webhook(
        "stripe", shop.fakes.stripe.signed(shop.fakes.stripe.event("charge.refunded", dict(charge)))
    )
    assert hook.status_code == 200, hook.text
    assert await shop.balance(buyer) == 25 * USD
    assert [r.amount_nanos for r in await _refund_rows(shop)] == [-15 * USD]

    async with shop.sessions() as session:
        audits = list(await session.scalars(select(AdminAudit)))
    assert [a.action for a in audits] == ["payment.refund"]
    assert audits[0].after is not None and audits[0].after["amount_nanos"] == 15 * USD
    assert audits[0].after["reason"] == "Customer asked"
    await shop.assert_ledger_proves_it()


async def test_more_than_what_is_left_is_refused_with_a_clear_error(shop: Shop, admin: Browser) -> None:
    browser = admin
    buyer, payment_id, _ = await _paid_by_card(shop)
    assert (await _refund(browser, payment_id, amount_usd="30.00", reason="Part"))[0] == 303
    status, text = await _refund(browser, payment_id, amount_usd="10.01", reason="Too much")
    assert status == 400
    assert "At most $10.00 of this payment is left to refund" in text
    assert await shop.balance(buyer) == 10 * USD
    assert len(shop.fakes.stripe.refunds) == 1
    status, text = await _refund(browser, payment_id, amount_usd="5.00", reason=" ")
    assert status == 400 and "Give the reason for the refund" in text


async def test_a_crypto_payment_says_refunds_are_made_outside(shop: Shop, admin: Browser) -> None:
    browser = admin
    buyer = await shop.account()
    created = await shop.checkout(buyer, "coinbase", "10.00")
    page = await browser.get(f"/admin/payments/{created['id']}")
    assert page.status_code == 200
    assert "refunded outside Modelsnest" in page.text and 'name="amount_usd"' not in page.text


async def test_a_paypal_refund_from_the_panel_is_taken_back_once_when_its_webhook_follows(
    shop: Shop, admin: Browser
) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "paypal", "30.00")
    order_id = (await shop.row(created["id"])).provider_checkout_id
    assert order_id is not None
    shop.fakes.paypal.approve(order_id)
    await shop.client.get(shop.return_url("paypal", order_id))
    assert await shop.balance(buyer) == 30 * USD

    status, _ = await _refund(admin, created["id"], amount_usd="12.00", reason="Double charge")
    assert status == 303
    assert await shop.balance(buyer) == 18 * USD
    [made] = shop.fakes.paypal.refunds
    assert made["amount"]["value"] == "12.00"

    resource = {k: v for k, v in made.items() if k != "capture_id"}
    event = shop.fakes.paypal.event("PAYMENT.CAPTURE.REFUNDED", resource, "refund")
    hook = await shop.webhook("paypal", shop.fakes.paypal.signed(event))
    assert hook.status_code == 200, hook.text
    assert await shop.balance(buyer) == 18 * USD
    assert [r.amount_nanos for r in await _refund_rows(shop)] == [-12 * USD]
    payment = await shop.payment(buyer, created["id"])
    assert (payment["status"], payment["refunded_usd"]) == ("partially_refunded", "12.00")
    await shop.assert_ledger_proves_it()
