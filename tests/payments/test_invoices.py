"""Every completed payment gets a numbered invoice (own only), printable as HTML and PDF with
the seller from configuration and the buyer from the profile."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from modelsnest.auth.caller import Caller
from modelsnest.db.models import User
from modelsnest.errors import NotFound
from tests.payments.conftest import Account, Shop


async def _paid(shop: Shop, buyer: Account, amount: str = "10.00") -> str:
    created = await shop.checkout(buyer, "coinbase", amount)
    checkout_id = (await shop.row(created["id"])).provider_checkout_id
    assert checkout_id is not None
    await shop.webhook(
        "coinbase",
        shop.fakes.coinbase.signed("checkout.payment.success", shop.fakes.coinbase.pay(checkout_id)),
    )
    payment = await shop.payment(buyer, created["id"])
    assert payment["status"] == "completed"
    return str(payment["invoice"])


async def test_a_completed_payment_has_an_invoice_with_seller_and_buyer(shop: Shop) -> None:
    buyer = await shop.account()
    async with shop.sessions.begin() as session:
        await session.execute(
            update(User).where(User.id == buyer.user_id).values(display_name="Zoë <Tester>")
        )
    number = await _paid(shop, buyer, "12.34")
    caller = Caller.signed_in(buyer.user_id, "user")

    invoice = await shop.services.payments.get_invoice(caller, number)
    listed = await shop.services.payments.list_invoices(caller)

    assert [i.number for i in listed] == [number]
    assert number.startswith(f"MN-{invoice.issued_at.year}-") and invoice.amount_usd == "12.34"
    assert invoice.seller == {
        "name": "Modelsnest Test Ltd",
        "address": "1 Test Street\\nTestville",
        "tax_id": "EU123456789",
        "email": "billing@modelsnest.test",
    }
    assert invoice.buyer == {"email": (await _email(shop, buyer)), "name": "Zoë <Tester>"}
    html = shop.services.payments.invoice_html(invoice, standalone=True)
    assert html.lstrip().startswith("<!doctype html>") and number in html and "12.34" in html
    assert "Zoë &lt;Tester&gt;" in html and "<Tester>" not in html  # escaped
    assert "EU123456789" in html and "Testville" in html
    fragment = shop.services.payments.invoice_html(invoice)
    assert fragment.lstrip().startswith('<article class="invoice"')
    pdf = shop.services.payments.invoice_pdf(invoice)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1000


async def _email(shop: Shop, buyer: Account) -> str:
    async with shop.sessions() as session:
        return str(
            await session.scalar(
                User.__table__.select().with_only_columns(User.email).where(User.id == buyer.user_id)
            )
        )


async def test_another_users_invoice_is_not_found(shop: Shop) -> None:
    alice, bob = await shop.account(), await shop.account()
    number = await _paid(shop, alice)
    with pytest.raises(NotFound):
        await shop.services.payments.get_invoice(Caller.signed_in(bob.user_id, "user"), number)
    assert await shop.services.payments.list_invoices(Caller.signed_in(bob.user_id, "user")) == []


async def test_unpaid_payments_get_no_invoice(shop: Shop) -> None:
    buyer = await shop.account()
    created = await shop.checkout(buyer, "stripe", "10.00")
    assert created["invoice"] is None
    assert await shop.services.payments.list_invoices(Caller.signed_in(buyer.user_id, "user")) == []
