"""Each provider end to end through the HTTP API: checkout → the payer pays at the (fake)
provider → the return URL and the webhook → credited once, with an invoice."""

from __future__ import annotations

from tests.payments.conftest import USD, Shop


async def test_stripe_checkout_is_credited_after_the_return_and_the_webhook(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "stripe", "10.00")
    assert created["status"] == "created" and created["amount_usd"] == "10.00"
    assert created["checkout_url"].startswith(shop.fakes.stripe.url)
    session_id = (await shop.row(created["id"])).provider_checkout_id
    assert session_id is not None
    sent = shop.fakes.stripe.sessions[session_id]
    assert (sent["amount_total"], sent["currency"], sent["client_reference_id"]) == (
        1000,
        "usd",
        created["id"],
    )

    shop.fakes.stripe.pay(session_id)
    page = await shop.client.get(shop.return_url("stripe", session_id))
    assert page.status_code == 200 and "added to your credits" in page.text
    event = shop.fakes.stripe.event("checkout.session.completed", shop.fakes.stripe.sessions[session_id])
    hook = await shop.webhook("stripe", shop.fakes.stripe.signed(event))

    assert hook.status_code == 200
    payment = await shop.payment(buyer, created["id"])
    assert payment["status"] == "completed" and payment["invoice"].startswith("MN-")
    assert payment["checkout_url"] is None
    assert await shop.balance(buyer) == 10 * USD
    await shop.assert_ledger_proves_it()


async def test_paypal_order_is_captured_server_side_on_return(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "paypal", "25.50")
    order_id = (await shop.row(created["id"])).provider_checkout_id
    assert order_id is not None
    order = shop.fakes.paypal.orders[order_id]
    assert order["purchase_units"][0]["custom_id"] == created["id"]
    assert order["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "25.50"}
    assert created["checkout_url"].endswith(f"token={order_id}")

    shop.fakes.paypal.approve(order_id)
    page = await shop.client.get(shop.return_url("paypal", order_id))
    assert page.status_code == 200, page.text
    capture = shop.fakes.paypal.capture_of(order_id)
    hook = await shop.webhook(
        "paypal", shop.fakes.paypal.signed(shop.fakes.paypal.event("PAYMENT.CAPTURE.COMPLETED", capture))
    )

    assert (hook.status_code, hook.json()["outcome"]) == (200, "unchanged")
    assert (await shop.payment(buyer, created["id"]))["status"] == "completed"
    assert (await shop.row(created["id"])).provider_payment_id == capture["id"]
    assert await shop.balance(buyer) == 25_500_000_000
    assert shop.fakes.paypal.captures == 1
    await shop.assert_ledger_proves_it()


async def test_coinbase_checkout_is_credited_on_the_payment_success_webhook(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "coinbase", "12.00")
    checkout_id = (await shop.row(created["id"])).provider_checkout_id
    assert checkout_id is not None
    sent = shop.fakes.coinbase.checkouts[checkout_id]
    assert (sent["amount"], sent["currency"], sent["metadata"]["paymentId"]) == (
        "12.00",
        "USDC",
        created["id"],
    )
    assert created["currency"] == "USDC"

    paid = shop.fakes.coinbase.pay(checkout_id)
    hook = await shop.webhook("coinbase", shop.fakes.coinbase.signed("checkout.payment.success", paid))
    page = await shop.client.get(shop.return_url("coinbase", checkout_id))

    assert hook.status_code == 200 and hook.json()["outcome"] == "credited"
    assert "added to your credits" in page.text
    assert (await shop.payment(buyer, created["id"]))["status"] == "completed"
    assert await shop.balance(buyer) == 12 * USD
    await shop.assert_ledger_proves_it()


async def test_only_configured_providers_are_offered_with_their_labels(shop: Shop) -> None:
    assert [(o.name, o.label) for o in shop.services.payments.providers()] == [
        ("stripe", "Card (Stripe)"),
        ("paypal", "PayPal"),
        ("coinbase", "Coinbase (USDC)"),
    ]
