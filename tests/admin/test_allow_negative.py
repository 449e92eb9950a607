""" "Allow the balance to go below zero" on a deduction: off by default (a deduction beyond
what is available is refused); ticked, the deduction overdraws, and the invariants (and the
consistency page) accept that debt the way they accept a payment refund's clawback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from modelsnest import billing
from modelsnest.db.models import AdminAudit, CreditTransaction
from tests.admin.conftest import Panel
from tests.admin.test_users import _credit

USD = 10**9


async def _ledger(panel: Panel) -> list[CreditTransaction]:
    async with panel.browser.services.sessions() as session:
        return list(
            await session.scalars(
                select(CreditTransaction)
                .where(CreditTransaction.user_id == panel.customer.id)
                .order_by(CreditTransaction.id)
            )
        )


async def _audits(panel: Panel) -> list[AdminAudit]:
    async with panel.browser.services.sessions() as session:
        return list(await session.scalars(select(AdminAudit).order_by(AdminAudit.id)))


async def test_the_deduct_form_has_the_box_unticked(panel: Panel) -> None:
    page = await panel.browser.get(f"/admin/users/{panel.customer.id}/credits?kind=deduct")
    assert "Allow the balance to go below zero" in page.text
    box = page.text.split('name="allow_negative"')[1].split(">")[0]
    assert "checked" not in box


async def test_without_the_box_a_deduction_beyond_available_is_refused(panel: Panel) -> None:
    await _credit(panel, "topup", "2", "start")
    response = await _credit(panel, "deduct", "5", "too much")
    assert response.status_code == 400 and "only $2.00 is available" in response.text
    assert len(await _ledger(panel)) == 1
    assert (
        await billing.get_balance(panel.browser.services.sessions, panel.customer.id)
    ).balance_nanos == 2 * USD


@pytest.mark.parametrize("where", ["sqlite", "postgres"])
async def test_with_the_box_the_balance_goes_negative_and_the_invariants_hold(
    where: str, panel: Panel, pg_panel: Panel
) -> None:
    p = panel if where == "sqlite" else pg_panel
    await _credit(p, "topup", "2", "start")
    response = await _credit(p, "deduct", "5", "Chargeback lost at the bank", allow_negative="on")
    assert response.status_code == 303, response.text[:2000]
    sessions = p.browser.services.sessions
    balance = await billing.get_balance(sessions, p.customer.id)
    assert balance.balance_nanos == -3 * USD
    rows = await _ledger(p)
    assert [(r.type, r.amount_nanos) for r in rows] == [("adjustment", 2 * USD), ("adjustment", -5 * USD)]
    audits = await _audits(p)
    assert [a.action for a in audits] == ["credits.topup", "credits.deduct"]
    assert audits[1].after is not None and audits[1].after["allow_negative"] is True
    assert audits[1].after["balance_nanos"] == -3 * USD
    assert await billing.verify_invariants(sessions) == []
    page = await p.browser.get("/admin/consistency")
    assert page.status_code == 200 and "below minus its clawback" not in page.text
    # A top-up afterwards pays the debt back first; the invariants still hold.
    await _credit(p, "topup", "4", "settled")
    assert (await billing.get_balance(sessions, p.customer.id)).balance_nanos == 1 * USD
    assert await billing.verify_invariants(sessions) == []


async def test_the_box_does_not_change_a_deduction_that_fits(panel: Panel) -> None:
    await _credit(panel, "topup", "10", "start")
    assert (await _credit(panel, "deduct", "4", "fits", allow_negative="on")).status_code == 303
    assert (
        await billing.get_balance(panel.browser.services.sessions, panel.customer.id)
    ).balance_nanos == 6 * USD
    assert await billing.verify_invariants(panel.browser.services.sessions) == []
