"""Exactly once, whatever the order and however many at a time: the same webhook delivered 5
times concurrently, to two replicas, racing the payer's return; invoice numbers without gaps."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from modelsnest.db.models import Invoice, PaymentEvent
from tests.payments.conftest import USD, Shop


async def test_a_stripe_webhook_five_times_at_once_with_the_return_credits_once(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "stripe", "20.00")
    session_id = (await shop.row(created["id"])).provider_checkout_id
    assert session_id is not None
    shop.fakes.stripe.pay(session_id)
    signed = shop.fakes.stripe.signed(
        shop.fakes.stripe.event("checkout.session.completed", shop.fakes.stripe.sessions[session_id])
    )

    results = await asyncio.gather(
        *(shop.webhook("stripe", signed, replica=i % 2) for i in range(5)),
        shop.replicas[1].client.get(shop.return_url("stripe", session_id)),
        shop.client.get(shop.return_url("stripe", session_id)),
    )

    assert [r.status_code for r in results] == [200] * 7
    outcomes = sorted(r.json()["outcome"] for r in results[:5])
    assert outcomes.count("duplicate") == 4
    assert await shop.balance(buyer) == 20 * USD
    async with shop.sessions() as session:
        events = (await session.execute(select(PaymentEvent.source, PaymentEvent.outcome))).all()
    assert sum(1 for e in events if e.outcome == "credited") == 1
    assert sum(1 for e in events if e.source == "webhook") == 1  # one delivery stored, four replays refused
    await shop.assert_ledger_proves_it()


async def test_a_paypal_capture_webhook_racing_two_returns_credits_once(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "paypal", "15.00")
    order_id = (await shop.row(created["id"])).provider_checkout_id
    assert order_id is not None
    shop.fakes.paypal.approve(order_id)
    # The capture happens on the first return; the webhook of that capture is delivered 5 times
    # while the payer reloads the return page on the other replica.
    first = await shop.client.get(shop.return_url("paypal", order_id))
    assert first.status_code == 200
    capture = shop.fakes.paypal.capture_of(order_id)
    signed = shop.fakes.paypal.signed(shop.fakes.paypal.event("PAYMENT.CAPTURE.COMPLETED", capture))

    results = await asyncio.gather(
        *(shop.webhook("paypal", signed, replica=i % 2) for i in range(5)),
        shop.replicas[1].client.get(shop.return_url("paypal", order_id)),
    )

    assert [r.status_code for r in results] == [200] * 6
    assert await shop.balance(buyer) == 15 * USD
    assert shop.fakes.paypal.captures == 1
    await shop.assert_ledger_proves_it()


async def test_webhooks_arriving_before_the_return_credit_once_too(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "coinbase", "30.00")
    checkout_id = (await shop.row(created["id"])).provider_checkout_id
    assert checkout_id is not None
    paid = shop.fakes.coinbase.pay(checkout_id)
    signed = shop.fakes.coinbase.signed("checkout.payment.success", paid)

    await asyncio.gather(
        *(shop.webhook("coinbase", signed, replica=i % 2) for i in range(5)),
        *(replica.client.get(shop.return_url("coinbase", checkout_id)) for replica in shop.replicas),
    )

    assert await shop.balance(buyer) == 30 * USD
    await shop.assert_ledger_proves_it()


async def test_invoice_numbers_have_no_gaps_under_concurrency(shop: Shop) -> None:
    buyers = [await shop.account() for _ in range(8)]
    payments = [await shop.checkout(b, "coinbase", "5.00") for b in buyers]
    signed = []
    for payment in payments:
        checkout_id = (await shop.row(payment["id"])).provider_checkout_id
        assert checkout_id is not None
        signed.append(
            shop.fakes.coinbase.signed("checkout.payment.success", shop.fakes.coinbase.pay(checkout_id))
        )

    await asyncio.gather(*(shop.webhook("coinbase", s, replica=i % 2) for i, s in enumerate(signed)))

    async with shop.sessions() as session:
        invoices = (await session.execute(select(Invoice.series, Invoice.sequence, Invoice.number))).all()
    assert sorted(i.sequence for i in invoices) == list(range(1, 9))
    assert len({i.number for i in invoices}) == 8
    await shop.assert_ledger_proves_it()
