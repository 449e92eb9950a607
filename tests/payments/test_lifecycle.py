"""A payment's life after checkout: pending then completed, denied, cancelled, expired,
refunded (full, partial, replayed out of order), a capture timing out and the reconciler
finishing it, and what another user can (not) do with someone's payment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from modelsnest import billing
from modelsnest.db.base import utcnow
from modelsnest.db.models import Payment
from tests.payments.conftest import USD, Account, Shop


async def _paypal(shop: Shop, amount: str = "10.00") -> tuple[Account, str, str]:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "paypal", amount)
    order_id = (await shop.row(created["id"])).provider_checkout_id
    assert order_id is not None
    return buyer, created["id"], order_id


async def test_a_pending_paypal_capture_is_credited_when_it_completes(shop: Shop) -> None:
    buyer, payment_id, order_id = await _paypal(shop)
    shop.fakes.paypal.approve(order_id)
    shop.fakes.paypal.capture_status = "PENDING"

    page = await shop.client.get(shop.return_url("paypal", order_id))
    assert "being processed" in page.text
    assert (await shop.payment(buyer, payment_id))["status"] == "pending"
    capture = dict(shop.fakes.paypal.capture_of(order_id), status="COMPLETED")
    capture.pop("status_details")
    hook = await shop.webhook(
        "paypal", shop.fakes.paypal.signed(shop.fakes.paypal.event("PAYMENT.CAPTURE.COMPLETED", capture))
    )

    assert hook.json()["outcome"] == "credited"
    assert await shop.balance(buyer) == 10 * USD
    await shop.assert_ledger_proves_it()


async def test_a_denied_paypal_capture_fails_and_credits_nothing(shop: Shop) -> None:
    buyer, payment_id, order_id = await _paypal(shop)
    shop.fakes.paypal.approve(order_id)
    shop.fakes.paypal.capture_status = "PENDING"
    await shop.client.get(shop.return_url("paypal", order_id))
    denied = dict(shop.fakes.paypal.capture_of(order_id), status="DECLINED")

    hook = await shop.webhook(
        "paypal", shop.fakes.paypal.signed(shop.fakes.paypal.event("PAYMENT.CAPTURE.DENIED", denied))
    )

    assert hook.json()["outcome"] == "failed"
    assert (await shop.payment(buyer, payment_id))["status"] == "failed"
    assert await shop.balance(buyer) == 0


async def test_a_stripe_delayed_payment_is_pending_then_completed_or_failed(shop: Shop) -> None:
    for succeed in (True, False):
        buyer = await shop.account()
        created = await shop.checkout(buyer, "stripe", "8.00")
        session_id = (await shop.row(created["id"])).provider_checkout_id
        assert session_id is not None
        session = shop.fakes.stripe.pay(session_id, delayed=True)
        await shop.webhook(
            "stripe", shop.fakes.stripe.signed(shop.fakes.stripe.event("checkout.session.completed", session))
        )
        assert (await shop.payment(buyer, created["id"]))["status"] == "pending"

        session = shop.fakes.stripe.settle_delayed(session_id, succeed=succeed)
        kind = (
            "checkout.session.async_payment_succeeded" if succeed else "checkout.session.async_payment_failed"
        )
        await shop.webhook("stripe", shop.fakes.stripe.signed(shop.fakes.stripe.event(kind, session)))

        assert (await shop.payment(buyer, created["id"]))["status"] == ("completed" if succeed else "failed")
        assert await shop.balance(buyer) == (8 * USD if succeed else 0)
    await shop.assert_ledger_proves_it()


async def test_refunds_after_credit_take_back_partial_then_full_amounts_once(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "stripe", "40.00")
    session_id = (await shop.row(created["id"])).provider_checkout_id
    assert session_id is not None
    shop.fakes.stripe.pay(session_id)
    await shop.client.get(shop.return_url("stripe", session_id))
    intent = shop.fakes.stripe.sessions[session_id]["payment_intent"]

    partial = shop.fakes.stripe.signed(
        shop.fakes.stripe.event("charge.refunded", shop.fakes.stripe.refund(intent, 1500))
    )
    await shop.webhook("stripe", partial)
    assert (await shop.payment(buyer, created["id"]))["status"] == "partially_refunded"
    assert await shop.balance(buyer) == 25 * USD
    full = shop.fakes.stripe.signed(
        shop.fakes.stripe.event("charge.refunded", shop.fakes.stripe.refund(intent, 2500))
    )
    await shop.webhook("stripe", full)
    # The older event delivered again, late, as a new delivery: cumulative amounts make it a no-op.
    late = shop.fakes.stripe.event(
        "charge.refunded",
        dict(shop.fakes.stripe.charges[next(iter(shop.fakes.stripe.charges))], amount_refunded=1500),
    )
    await shop.webhook("stripe", shop.fakes.stripe.signed(late))

    payment = await shop.payment(buyer, created["id"])
    assert (payment["status"], payment["refunded_usd"]) == ("refunded", "40.00")
    assert await shop.balance(buyer) == 0
    await shop.assert_ledger_proves_it()


async def test_a_refund_of_spent_credits_leaves_the_account_owing(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "coinbase", "10.00")
    checkout_id = (await shop.row(created["id"])).provider_checkout_id
    assert checkout_id is not None
    await shop.webhook(
        "coinbase",
        shop.fakes.coinbase.signed("checkout.payment.success", shop.fakes.coinbase.pay(checkout_id)),
    )
    await billing.adjust(
        shop.sessions,
        user_id=buyer.user_id,
        amount_nanos=-6 * USD,
        reason="spent",
        actor="t",
        idempotency_key="spend-1",
    )

    refunded = shop.fakes.coinbase.refund(checkout_id, "10.00")
    await shop.webhook("coinbase", shop.fakes.coinbase.signed("checkout.refund.success", refunded))

    assert (await shop.payment(buyer, created["id"]))["status"] == "refunded"
    assert await shop.balance(buyer) == -6 * USD
    await shop.assert_ledger_proves_it()


async def test_a_paypal_refund_webhook_takes_back_that_refund_once(shop: Shop) -> None:
    buyer, payment_id, order_id = await _paypal(shop, "30.00")
    shop.fakes.paypal.approve(order_id)
    await shop.client.get(shop.return_url("paypal", order_id))
    refund = shop.fakes.paypal.refund(order_id, "12.00")
    signed = shop.fakes.paypal.signed(shop.fakes.paypal.event("PAYMENT.CAPTURE.REFUNDED", refund, "refund"))

    await shop.webhook("paypal", signed)
    again = shop.fakes.paypal.signed(shop.fakes.paypal.event("PAYMENT.CAPTURE.REFUNDED", refund, "refund"))
    await shop.webhook("paypal", again)  # another event id naming the same refund

    payment = await shop.payment(buyer, payment_id)
    assert (payment["status"], payment["refunded_usd"]) == ("partially_refunded", "12.00")
    assert await shop.balance(buyer) == 18 * USD
    await shop.assert_ledger_proves_it()


async def test_a_capture_that_times_out_is_finished_by_the_reconciler(shop: Shop) -> None:
    buyer, payment_id, order_id = await _paypal(shop)
    shop.fakes.paypal.approve(order_id)
    shop.fakes.paypal.capture_delay = 3.0  # longer than MODELSNEST_PAYMENTS_TIMEOUT_SECONDS

    page = await shop.client.get(shop.return_url("paypal", order_id))
    assert page.status_code == 200 and "not received your payment" in page.text
    assert (await shop.payment(buyer, payment_id))["status"] == "created"
    assert shop.fakes.paypal.captures == 1  # PayPal did capture; we never heard back

    shop.fakes.paypal.capture_delay = 0
    report = await shop.services.payments.reconcile(older_than_seconds=0)

    assert (report.checked, report.completed) == (1, 1)
    assert (await shop.payment(buyer, payment_id))["status"] == "completed"
    assert await shop.balance(buyer) == 10 * USD
    assert shop.fakes.paypal.captures == 1
    await shop.assert_ledger_proves_it()


async def test_the_reconciler_captures_an_order_approved_by_a_payer_who_never_came_back(shop: Shop) -> None:
    buyer, payment_id, order_id = await _paypal(shop)
    shop.fakes.paypal.approve(order_id)

    assert (await shop.services.payments.reconcile(older_than_seconds=600)).checked == 0  # too recent
    report = await shop.services.payments.reconcile(older_than_seconds=0)

    assert report.completed == 1
    assert await shop.balance(buyer) == 10 * USD


async def test_the_reconciler_expires_an_abandoned_stripe_checkout(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "stripe", "10.00")
    row = await shop.row(created["id"])
    assert row.provider_checkout_id is not None

    report = await shop.services.payments.reconcile(older_than_seconds=0)
    assert report.unchanged == 1  # still open, not yet expired
    async with shop.sessions.begin() as session:
        await session.execute(
            update(Payment).where(Payment.id == row.id).values(expires_at=utcnow() - timedelta(minutes=1))
        )
    report = await shop.services.payments.reconcile(older_than_seconds=0)

    assert report.closed == 1
    assert (await shop.payment(buyer, created["id"]))["status"] == "expired"
    assert shop.fakes.stripe.sessions[row.provider_checkout_id]["status"] == "expired"


async def test_the_cancel_url_cancels_a_waiting_payment(shop: Shop) -> None:
    buyer, payment_id, order_id = await _paypal(shop)
    page = await shop.client.get(shop.cancel_url("paypal", order_id))
    assert page.status_code == 200 and "cancelled" in page.text
    assert (await shop.payment(buyer, payment_id))["status"] == "cancelled"


async def test_another_users_order_can_be_neither_read_nor_captured(shop: Shop) -> None:
    alice, alice_payment, alice_order = await _paypal(shop, "50.00")
    bob, bob_payment, bob_order = await _paypal(shop, "5.00")
    shop.fakes.paypal.approve(alice_order)

    # Bob's own return link, with Alice's approved order swapped in as PayPal's token.
    link = shop.return_url("paypal", bob_order).replace(f"token={bob_order}", f"token={alice_order}")
    await shop.client.get(link)
    # Alice's payment through a return link without her token, and through Bob's key.
    forged = await shop.client.get(f"/dashboard/billing/return/paypal?payment={alice_payment}&rt=guess")
    peek = await shop.client.get(f"/api/v1/credits/payments/{alice_payment}", headers=bob.headers)

    assert forged.status_code == 404 and peek.status_code == 404
    assert peek.json()["error"]["code"] == "PAYMENT_NOT_FOUND"
    assert shop.fakes.paypal.orders[alice_order]["status"] == "APPROVED"  # never captured
    assert (await shop.payment(bob, bob_payment))["status"] == "created"
    assert await shop.balance(bob) == 0 and await shop.balance(alice) == 0
    listed = await shop.client.get("/api/v1/credits/payments", headers=bob.headers)
    assert [p["id"] for p in listed.json()["data"]] == [bob_payment]


async def test_an_expired_paypal_token_is_refreshed_once(shop: Shop) -> None:
    buyer, payment_id, order_id = await _paypal(shop)
    shop.fakes.paypal.approve(order_id)
    before = shop.fakes.paypal.token_requests
    shop.fakes.paypal.expire_tokens()

    await shop.client.get(shop.return_url("paypal", order_id))

    assert shop.fakes.paypal.token_requests == before + 1
    assert (await shop.payment(buyer, payment_id))["status"] == "completed"
