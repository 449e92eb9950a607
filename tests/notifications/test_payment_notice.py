"""A credited payment tells its payer once, in the transaction that credits it (the fake
Stripe of the payments tests; replays of the return and the webhook add nothing)."""

from __future__ import annotations

from modelsnest import notifications
from tests.payments.conftest import Shop, fakes, shop  # noqa: F401  (the payments bench's fixtures)


async def test_a_payment_is_announced_once_when_credited(shop: Shop) -> None:  # noqa: F811
    buyer = await shop.account()
    created = await shop.checkout(buyer, "stripe", "10.00")
    session_id = (await shop.row(created["id"])).provider_checkout_id
    assert session_id is not None
    assert await notifications.unread_count(shop.sessions, buyer.user_id) == 0  # started, not paid

    shop.fakes.stripe.pay(session_id)
    await shop.client.get(shop.return_url("stripe", session_id))
    await shop.replicas[1].client.get(shop.return_url("stripe", session_id))
    event = shop.fakes.stripe.event("checkout.session.completed", shop.fakes.stripe.sessions[session_id])
    assert (await shop.webhook("stripe", shop.fakes.stripe.signed(event))).status_code == 200

    (note,) = await notifications.list_notifications(shop.sessions, buyer.user_id)
    assert (note.kind, note.title, note.link) == (
        "payment",
        "Payment received: $10.00 added to your credits",
        "/dashboard/billing",
    )
    assert note.body is not None and "card payment" in note.body
