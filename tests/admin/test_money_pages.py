"""The ledger, payments, usage and consistency pages, and the overview's margins: selling
price minus upstream cost, to the nano-dollar, from the rollups."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from modelsnest import billing
from modelsnest.auth.api_keys import create_key
from modelsnest.catalog.price_input import parse_price
from modelsnest.catalog.prices import set_route_cost
from modelsnest.catalog.providers import list_routes
from modelsnest.db.models import UsageLog, UserCredits
from modelsnest.money import format_usd
from tests.admin.conftest import CUSTOMER_EMAIL, Panel


async def _fund(panel: Panel, dollars: int = 10) -> None:
    await billing.adjust(
        panel.browser.services.sessions,
        user_id=panel.customer.id,
        amount_nanos=dollars * 10**9,
        reason="Launch credit",
        actor="test",
        idempotency_key=f"fund-{dollars}",
    )


async def _call(panel: Panel, n: int) -> None:
    _, token = await create_key(panel.browser.services.sessions, user_id=panel.customer.id, name="t")
    for i in range(n):
        response = await panel.browser.client.post(
            "/api/v1/chat/completions",
            headers={"Authorization": f"Bearer {token}"},
            json={"model": "deepseek", "messages": [{"role": "user", "content": f"Count to {i + 3}"}]},
        )
        assert response.status_code == 200, response.text


async def test_the_overview_margin_is_selling_minus_upstream_cost_to_the_nano_dollar(seeded: Panel) -> None:
    sessions = seeded.browser.services.sessions
    [route] = await list_routes(sessions, "deepseek")
    await set_route_cost(
        sessions,
        route.id,
        parse_price("per_1k_tokens", {"input": "0.0000713", "output": "0.000111"}),
        actor="test",
    )
    seeded.browser.services.gateway.catalog.invalidate()
    await _fund(seeded)
    await _call(seeded, 3)
    async with sessions() as session:
        rows = list(await session.scalars(select(UsageLog)))
    assert len(rows) == 3 and all(r.upstream_cost_nanos is not None for r in rows)
    charged = sum(r.cost_nanos for r in rows)
    cost = sum(r.upstream_cost_nanos or 0 for r in rows)
    page = await seeded.browser.get("/admin")
    assert page.status_code == 200
    for window in ("today", "7d", "30d"):
        shown = re.search(rf'data-margin="{window}">([^<]+)<', page.text)
        assert shown is not None
        assert shown.group(1) == format_usd(charged - cost)
    assert format_usd(charged) in page.text and format_usd(cost) in page.text
    assert "deepseek" in page.text.split('id="top-models"')[1]
    assert CUSTOMER_EMAIL in page.text.split('id="top-users"')[1]


async def test_the_ledger_filters_by_user_and_type_and_exports_csv(seeded: Panel) -> None:
    await _fund(seeded)
    await _call(seeded, 1)
    everything = await seeded.browser.get("/admin/ledger")
    assert "Launch credit" in everything.text
    usage_only = await seeded.browser.get(f"/admin/ledger?kind=usage&user={seeded.customer.id}")
    body = usage_only.text.split("<tbody>")[1]
    assert "Launch credit" not in body and "usage" in body
    export = await seeded.browser.get("/admin/ledger.csv?kind=adjustment")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:5] == ["id", "created_at", "user_id", "email", "type"]
    assert [(r[3], r[4], r[5]) for r in rows[1:]] == [(CUSTOMER_EMAIL, "adjustment", "10")]


async def test_usage_and_payments_pages_list_and_filter(seeded: Panel) -> None:
    await _fund(seeded)
    await _call(seeded, 2)
    usage = await seeded.browser.get("/admin/usage?model=deepseek")
    assert usage.text.count("<tr>") >= 3 and "2 requests" in usage.text
    none = await seeded.browser.get("/admin/usage?kind=error")
    assert "No requests" in none.text
    payments = await seeded.browser.get("/admin/payments")
    assert payments.status_code == 200 and "No payments yet" in payments.text


async def test_the_consistency_page_shows_a_balance_that_drifted_from_the_ledger(seeded: Panel) -> None:
    await _fund(seeded)
    ok = await seeded.browser.get("/admin/consistency")
    assert "Everything adds up" in ok.text
    async with seeded.browser.services.sessions.begin() as session:
        credits = await session.get(UserCredits, seeded.customer.id)
        assert credits is not None
        credits.balance_nanos += 7  # a corruption no code path makes
    broken = await seeded.browser.get("/admin/consistency")
    assert "Differences found" in broken.text
    table = broken.text.split('id="differences"')[1]
    assert CUSTOMER_EMAIL in table and "$0.000000007" in table
