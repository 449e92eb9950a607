"""The users pages: finding an account, crediting and debiting it (one ledger row and one
audit row each), role and status changes (never leaving the platform without an
administrator), reset links and key revocation."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from modelsnest import billing
from modelsnest.auth.api_keys import create_key
from modelsnest.db.models import AdminAudit, CreditTransaction, User
from modelsnest.errors import AuthError
from tests.admin.conftest import CUSTOMER_EMAIL, Panel
from tests.web.helpers import STRONG_PASSWORD, second_browser


async def _rows(panel: Panel, model: type, **where: object) -> list:  # type: ignore[type-arg]
    async with panel.browser.services.sessions() as session:
        statement = select(model)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        return list(await session.scalars(statement))


async def _credit(panel: Panel, kind: str, amount: str, reason: str, **extra: str) -> httpx.Response:
    user_id = panel.customer.id
    csrf, key = await panel.credit_form_key(user_id, kind)
    return await panel.browser.post(
        f"/admin/users/{user_id}/credits",
        {
            "csrf_token": csrf,
            "idempotency_key": key,
            "kind": kind,
            "amount_usd": amount,
            "reason": reason,
            **extra,
        },
    )


async def test_the_users_list_finds_an_account_by_part_of_its_email(panel: Panel) -> None:
    page = await panel.browser.get("/admin/users?q=ada%40cust")
    assert page.status_code == 200
    assert CUSTOMER_EMAIL in page.text
    assert "ops@modelsnest.example" not in page.text.split("<tbody>")[1]
    nobody = await panel.browser.get("/admin/users?q=nobody-here")
    assert "No users found" in nobody.text


async def test_the_users_list_sorts_by_balance(panel: Panel) -> None:
    await billing.adjust(
        panel.browser.services.sessions,
        user_id=panel.customer.id,
        amount_nanos=5_000_000_000,
        reason="seed",
        actor="test",
        idempotency_key="seed-1",
    )
    page = await panel.browser.get("/admin/users?sort=balance&dir=desc")
    body = page.text.split("<tbody>")[1]
    assert body.index(CUSTOMER_EMAIL) < body.index("ops@modelsnest.example")
    assert 'aria-sort="descending"' in page.text


async def test_a_top_up_writes_one_ledger_row_and_one_audit_row_and_raises_the_balance(panel: Panel) -> None:
    response = await _credit(panel, "topup", "12.50", "Goodwill for the outage")
    assert response.status_code == 303, response.text[:2000]
    sessions = panel.browser.services.sessions
    assert (await billing.get_balance(sessions, panel.customer.id)).balance_nanos == 12_500_000_000
    ledger = await _rows(panel, CreditTransaction, user_id=panel.customer.id)
    assert [(r.type, r.amount_nanos, r.description) for r in ledger] == [
        ("adjustment", 12_500_000_000, "Goodwill for the outage")
    ]
    assert str(panel.admin.id) in (ledger[0].actor or "")
    audits = await _rows(panel, AdminAudit)
    assert [(a.action, a.target_id, a.actor_id) for a in audits] == [
        ("credits.topup", str(panel.customer.id), panel.admin.id)
    ]
    assert audits[0].before == {"balance_nanos": 0}
    assert audits[0].after is not None and audits[0].after["balance_nanos"] == 12_500_000_000
    assert audits[0].ip_address == "203.0.113.7"
    page = await panel.browser.get(f"/admin/users/{panel.customer.id}")
    assert "$12.50" in page.text
    assert await billing.verify_invariants(sessions) == []


async def test_submitting_the_same_credit_form_twice_credits_once(panel: Panel) -> None:
    user_id = panel.customer.id
    csrf, key = await panel.credit_form_key(user_id)
    data = {"csrf_token": csrf, "idempotency_key": key, "kind": "topup", "amount_usd": "3", "reason": "twice"}
    for _ in range(2):
        assert (await panel.browser.post(f"/admin/users/{user_id}/credits", data)).status_code == 303
    assert (
        await billing.get_balance(panel.browser.services.sessions, user_id)
    ).balance_nanos == 3_000_000_000
    assert len(await _rows(panel, AdminAudit)) == 1


async def test_a_deduction_writes_one_row_each_and_lowers_the_balance(panel: Panel) -> None:
    await _credit(panel, "topup", "10", "start")
    response = await _credit(panel, "deduct", "4.25", "Charge-back of a promotional credit")
    assert response.status_code == 303
    sessions = panel.browser.services.sessions
    assert (await billing.get_balance(sessions, panel.customer.id)).balance_nanos == 5_750_000_000
    ledger = await _rows(panel, CreditTransaction, user_id=panel.customer.id)
    assert [r.amount_nanos for r in ledger] == [10_000_000_000, -4_250_000_000]
    assert [a.action for a in await _rows(panel, AdminAudit)] == ["credits.topup", "credits.deduct"]


async def test_a_deduction_beyond_the_balance_is_refused_and_writes_nothing(panel: Panel) -> None:
    await _credit(panel, "topup", "2", "start")
    response = await _credit(panel, "deduct", "5", "too much")
    assert response.status_code == 400
    assert "only $2.00 is available" in response.text
    assert len(await _rows(panel, CreditTransaction, user_id=panel.customer.id)) == 1
    assert len(await _rows(panel, AdminAudit)) == 1
    assert (
        await billing.get_balance(panel.browser.services.sessions, panel.customer.id)
    ).balance_nanos == 2 * 10**9


async def test_a_credit_without_a_reason_or_with_a_bad_amount_is_refused(panel: Panel) -> None:
    no_reason = await _credit(panel, "topup", "5", "   ")
    assert no_reason.status_code == 400
    assert "Give a reason" in no_reason.text
    bad = await _credit(panel, "topup", "five", "because")
    assert bad.status_code == 400
    assert "Enter an amount in dollars" in bad.text
    assert await _rows(panel, CreditTransaction, user_id=panel.customer.id) == []
    assert await _rows(panel, AdminAudit) == []


async def test_the_last_administrator_cannot_demote_or_disable_themself(panel: Panel) -> None:
    me = f"/admin/users/{panel.admin.id}"
    assert await panel.action(me, me + "/role", {"role": "user"}) == me
    assert await panel.action(me, me + "/status", {"status": "disabled"}) == me
    [admin] = await _rows(panel, User, id=panel.admin.id)
    assert (admin.role, admin.status) == ("admin", "active")
    assert await _rows(panel, AdminAudit) == []
    page = await panel.browser.get(me)
    assert "last active administrator" in page.text


async def test_promoting_a_customer_then_demoting_records_each_change(panel: Panel) -> None:
    them = f"/admin/users/{panel.customer.id}"
    await panel.action(them, them + "/role", {"role": "admin"})
    await panel.action(them, them + "/role", {"role": "user"})
    audits = await _rows(panel, AdminAudit)
    assert [(a.action, a.before, a.after) for a in audits] == [
        ("user.role", {"role": "user"}, {"role": "admin"}),
        ("user.role", {"role": "admin"}, {"role": "user"}),
    ]


async def test_disabling_an_account_ends_its_sessions_and_its_keys(panel: Panel) -> None:
    services = panel.browser.services
    _, token = await create_key(services.sessions, user_id=panel.customer.id, name="ci")
    assert (await services.keys.verify(token)).user_id == panel.customer.id
    async with await second_browser(panel.browser) as customer:
        login = await customer.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf is not None
        await customer.post(
            "/login", data={"csrf_token": csrf.group(1), "email": CUSTOMER_EMAIL, "password": STRONG_PASSWORD}
        )
        assert (await customer.get("/dashboard/keys")).status_code == 200
        them = f"/admin/users/{panel.customer.id}"
        await panel.action(them, them + "/status", {"status": "disabled"})
        assert (await customer.get("/dashboard/keys")).status_code == 303
    try:
        await services.keys.verify(token)
        raise AssertionError("a disabled account's key still works")
    except AuthError:
        pass
    [audit] = await _rows(panel, AdminAudit)
    assert (audit.action, audit.after) == ("user.status", {"status": "disabled"})


async def test_revoking_a_key_and_sending_a_reset_link_are_audited(panel: Panel) -> None:
    services = panel.browser.services
    key, token = await create_key(services.sessions, user_id=panel.customer.id, name="leaked")
    them = f"/admin/users/{panel.customer.id}"
    await panel.action(them, f"{them}/keys/{key.id}/revoke")
    try:
        await services.keys.verify(token)
        raise AssertionError("a revoked key still works")
    except AuthError:
        pass
    await panel.action(them, f"{them}/password-reset")
    await services.accounts.drain()
    outbox = list((services.settings.var_dir / "outbox").glob("*.eml"))
    assert any(CUSTOMER_EMAIL in path.read_text() for path in outbox)
    assert [a.action for a in await _rows(panel, AdminAudit)] == ["key.revoke", "user.password_reset"]


async def test_the_audit_page_lists_and_filters_the_entries(panel: Panel) -> None:
    await _credit(panel, "topup", "1", "first")
    them = f"/admin/users/{panel.customer.id}"
    await panel.action(them, them + "/role", {"role": "admin"})
    page = await panel.browser.get("/admin/audit")
    assert "credits.topup" in page.text and "user.role" in page.text
    filtered = await panel.browser.get("/admin/audit?action=user.role")
    body = filtered.text.split("<tbody>")[1]
    assert "user.role" in body and "credits.topup" not in body
    async with panel.browser.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AdminAudit)) == 2


async def test_the_search_box_swaps_only_the_table_for_htmx(panel: Panel) -> None:
    fragment = await panel.browser.get("/admin/users?q=ada", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="users-table">')
    assert CUSTOMER_EMAIL in fragment.text and "<html" not in fragment.text


async def test_on_postgresql_a_top_up_and_a_role_change_each_write_one_audit_row(pg_panel: Panel) -> None:
    panel = pg_panel
    response = await _credit(panel, "topup", "7.25", "Postgres goodwill")
    assert response.status_code == 303
    them = f"/admin/users/{panel.customer.id}"
    await panel.action(them, them + "/role", {"role": "admin"})
    me = f"/admin/users/{panel.admin.id}"
    await panel.action(me, me + "/role", {"role": "user"})  # another admin exists now: allowed
    sessions = panel.browser.services.sessions
    assert (await billing.get_balance(sessions, panel.customer.id)).balance_nanos == 7_250_000_000
    assert [a.action for a in await _rows(panel, AdminAudit)] == ["credits.topup", "user.role", "user.role"]
    assert await billing.verify_invariants(sessions) == []
    consistency = await panel.browser.get("/admin/consistency")
    assert "Administrators only" in consistency.text  # the demoted admin is out at once
