"""A webhook is believed only when it verifies: a forged signature or a stale timestamp is a
400 and changes nothing; a verified one for a payment we do not know is stored and answered
2xx; what a provider reports is checked against the amount and currency we fixed."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from modelsnest.db.models import PaymentEvent
from tests.fakes.paypal_api import stale
from tests.payments.conftest import Shop


async def _paid_stripe(shop: Shop, **pay: Any) -> tuple[Any, str, str]:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "stripe", "10.00")
    session_id = (await shop.row(created["id"])).provider_checkout_id
    assert session_id is not None
    shop.fakes.stripe.pay(session_id, **pay)
    return buyer, created["id"], session_id


async def test_a_forged_stripe_signature_is_refused_and_credits_nothing(shop: Shop) -> None:
    buyer, _, session_id = await _paid_stripe(shop)
    event = shop.fakes.stripe.event("checkout.session.completed", shop.fakes.stripe.sessions[session_id])

    forged = await shop.webhook("stripe", shop.fakes.stripe.signed(event, secret="whsec_attacker"))
    stale_one = await shop.webhook(
        "stripe", shop.fakes.stripe.signed(event, timestamp=int(time.time()) - 3600)
    )
    body, headers = shop.fakes.stripe.signed(event)
    tampered = await shop.webhook("stripe", (body.replace(b'"paid"', b'"unpaid"'), headers))
    unsigned = await shop.client.post("/webhooks/stripe", content=body)

    assert [r.status_code for r in (forged, stale_one, tampered, unsigned)] == [400] * 4
    assert forged.json()["error"]["code"] == "INVALID_WEBHOOK"
    assert await shop.balance(buyer) == 0
    async with shop.sessions() as session:
        assert (await session.execute(select(PaymentEvent))).first() is None
    await shop.assert_ledger_proves_it()


async def test_a_forged_or_stale_paypal_webhook_is_refused(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "paypal", "10.00")
    order_id = (await shop.row(created["id"])).provider_checkout_id
    assert order_id is not None
    capture = {
        "id": "CAPTUREFORGED01",
        "status": "COMPLETED",
        "custom_id": created["id"],
        "amount": {"currency_code": "USD", "value": "10.00"},
        "supplementary_data": {"related_ids": {"order_id": order_id}},
    }
    event = shop.fakes.paypal.event("PAYMENT.CAPTURE.COMPLETED", capture)
    body, headers = shop.fakes.paypal.signed(event)

    tampered = await shop.webhook("paypal", (body.replace(b"10.00", b"99.00"), headers))
    other_hook = await shop.webhook("paypal", shop.fakes.paypal.signed(event, webhook_id="WH-SOMEONE-ELSE"))
    old = await shop.webhook("paypal", shop.fakes.paypal.signed(event, sent=stale()))
    bare = await shop.client.post(
        "/webhooks/paypal", content=body, headers={"Content-Type": "application/json"}
    )

    assert [r.status_code for r in (tampered, other_hook, old, bare)] == [400] * 4
    assert await shop.balance(buyer) == 0
    assert (await shop.row(created["id"])).status == "created"


async def test_a_forged_or_stale_coinbase_webhook_is_refused(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "coinbase", "10.00")
    checkout_id = (await shop.row(created["id"])).provider_checkout_id
    assert checkout_id is not None
    paid = dict(shop.fakes.coinbase.checkouts[checkout_id], status="COMPLETED")

    forged = await shop.webhook(
        "coinbase", shop.fakes.coinbase.signed("checkout.payment.success", paid, secret="x" * 20)
    )
    old = await shop.webhook(
        "coinbase",
        shop.fakes.coinbase.signed("checkout.payment.success", paid, timestamp=int(time.time()) - 900),
    )
    body, headers = shop.fakes.coinbase.signed("checkout.payment.success", paid)
    swapped = await shop.webhook("coinbase", (body, {**headers, "x-event-type": "checkout.refund.success"}))

    assert [r.status_code for r in (forged, old, swapped)] == [400] * 3
    assert await shop.balance(buyer) == 0


@pytest.mark.parametrize("provider", ["stripe", "paypal", "coinbase"])
async def test_a_verified_webhook_for_an_unknown_payment_is_stored_and_answered(
    shop: Shop, provider: str
) -> None:
    if provider == "stripe":
        session = {
            "id": "cs_test_unknown",
            "object": "checkout.session",
            "mode": "payment",
            "status": "expired",
            "client_reference_id": "pay_000000000000000000000000",
            "metadata": {},
        }
        signed = shop.fakes.stripe.signed(shop.fakes.stripe.event("checkout.session.expired", session))
    elif provider == "paypal":
        capture = {
            "id": "CAPTUREUNKNOWN1",
            "status": "COMPLETED",
            "custom_id": "pay_nobody",
            "amount": {"currency_code": "USD", "value": "10.00"},
        }
        signed = shop.fakes.paypal.signed(shop.fakes.paypal.event("PAYMENT.CAPTURE.COMPLETED", capture))
    else:
        checkout = {
            "id": "f" * 24,
            "status": "COMPLETED",
            "amount": "10.00",
            "currency": "USDC",
            "metadata": {"paymentId": "pay_nobody"},
        }
        signed = shop.fakes.coinbase.signed("checkout.payment.success", checkout)

    response = await shop.webhook(provider, signed)
    again = await shop.webhook(provider, signed)

    assert (response.status_code, response.json()["outcome"]) == (200, "unknown_payment")
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    async with shop.sessions() as session:
        stored = (await session.execute(select(PaymentEvent))).scalars().all()
    assert [(e.provider, e.outcome, e.payment_id) for e in stored] == [(provider, "unknown_payment", None)]
    assert stored[0].body == signed[0].decode()
    await shop.assert_ledger_proves_it()


async def test_stripe_reporting_another_amount_is_recorded_not_credited(shop: Shop) -> None:
    buyer, payment_id, session_id = await _paid_stripe(shop, amount=100)
    event = shop.fakes.stripe.event("checkout.session.completed", shop.fakes.stripe.sessions[session_id])

    response = await shop.webhook("stripe", shop.fakes.stripe.signed(event))

    assert (response.status_code, response.json()["outcome"]) == (200, "mismatch")
    payment = await shop.payment(buyer, payment_id)
    assert payment["status"] == "failed" and "amount mismatch" in payment["failure_reason"]
    assert await shop.balance(buyer) == 0
    await shop.assert_ledger_proves_it()


async def test_stripe_reporting_another_currency_is_recorded_not_credited(shop: Shop) -> None:
    buyer, payment_id, session_id = await _paid_stripe(shop, currency="eur")
    await shop.client.get(shop.return_url("stripe", session_id))
    payment = await shop.payment(buyer, payment_id)
    assert payment["status"] == "failed" and "currency mismatch" in payment["failure_reason"]
    assert await shop.balance(buyer) == 0


@pytest.mark.parametrize(
    ("amount", "currency", "problem"), [("1.00", None, "amount"), (None, "EUR", "currency")]
)
async def test_a_paypal_capture_of_another_amount_or_currency_is_not_credited(
    shop: Shop, amount: str | None, currency: str | None, problem: str
) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "paypal", "10.00")
    order_id = (await shop.row(created["id"])).provider_checkout_id
    assert order_id is not None
    shop.fakes.paypal.approve(order_id)
    shop.fakes.paypal.capture_amount, shop.fakes.paypal.capture_currency = amount, currency

    await shop.client.get(shop.return_url("paypal", order_id))

    payment = await shop.payment(buyer, created["id"])
    assert payment["status"] == "failed" and f"{problem} mismatch" in payment["failure_reason"]
    assert await shop.balance(buyer) == 0
    await shop.assert_ledger_proves_it()


async def test_a_coinbase_checkout_paid_short_is_not_credited(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "coinbase", "50.00")
    checkout_id = (await shop.row(created["id"])).provider_checkout_id
    assert checkout_id is not None
    paid = shop.fakes.coinbase.pay(checkout_id, amount="5.00")

    response = await shop.webhook("coinbase", shop.fakes.coinbase.signed("checkout.payment.success", paid))

    assert response.json()["outcome"] == "mismatch"
    assert await shop.balance(buyer) == 0
    assert (await shop.row(created["id"])).status == "failed"


async def test_a_webhook_for_no_provider_we_know_is_a_400(shop: Shop) -> None:
    response = await shop.client.post("/webhooks/square", content=b"{}")
    assert (response.status_code, response.json()["error"]["type"]) == (400, "invalid_request_error")
