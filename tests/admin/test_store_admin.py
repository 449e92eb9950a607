"""The API Store pages: a product created in the panel is callable at once through
``/api/v1/store/{slug}/…`` with the operator's secret added upstream; that secret is write-only
(never in a page nor the audit log); a disabled product is refused; every action is audited."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from modelsnest.auth.api_keys import create_key
from modelsnest.auth.users import create_user
from modelsnest.billing import get_balance
from modelsnest.db.models import AdminAudit, StoreProduct
from modelsnest.money import usd_to_nanos
from tests.admin.conftest import Panel
from tests.fakes.http_api import FakeHttpApi

SECRET = "upstream-secret-0123456789abcdef"


@pytest.fixture
async def upstream() -> AsyncIterator[FakeHttpApi]:
    async with FakeHttpApi() as fake:
        yield fake


def _product(upstream: FakeHttpApi, **extra: str) -> dict[str, str]:
    return {
        "slug": "weather",
        "name": "Weather API",
        "description": "Forecasts.",
        "category": "data",
        "upstream_base_url": upstream.url + "/v1/",
        "auth_location": "header",
        "auth_name": "X-Api-Key",
        "auth_secret": SECRET,
        "allowed_methods": "GET",
        "path_patterns": "forecast/*\nstatus/*",
        "price_per_call": "0.002",
        "price_per_mb": "",
        "billing_policy": "2xx",
        "rate_limit_per_minute": "60",
        "timeout_seconds": "10",
        "max_request_bytes": "1000",
        "max_response_bytes": "100000",
        "allow_private_network": "on",
        "docs_markdown": "# Weather\nCall `forecast/{city}`.",
        **extra,
    }


async def _audits(panel: Panel) -> list[AdminAudit]:
    async with panel.browser.services.sessions() as session:
        return list(await session.scalars(select(AdminAudit).order_by(AdminAudit.id)))


async def _buyer(panel: Panel) -> tuple[int, str]:
    """A customer with $1 of credit and an API key."""
    sessions = panel.browser.services.sessions
    user = await create_user(sessions, email="buyer@customer.example", credits_nanos=usd_to_nanos("1"))
    _, token = await create_key(sessions, user_id=user.id)
    return user.id, token


async def test_a_product_created_in_the_panel_is_callable_and_charged(
    panel: Panel, upstream: FakeHttpApi
) -> None:
    sessions = panel.browser.services.sessions
    location = await panel.action("/admin/store", "/admin/store", _product(upstream))
    assert location == "/admin/store/weather"

    user_id, token = await _buyer(panel)
    before = await get_balance(sessions, user_id)
    answer = await panel.browser.get(
        "/api/v1/store/weather/forecast/paris", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.content == b"echo:"
    seen = upstream.requests[-1]
    assert seen.raw_path == "/v1/forecast/paris"
    assert seen.headers["X-Api-Key"] == SECRET
    after = await get_balance(sessions, user_id)
    assert before.balance_nanos - after.balance_nanos == usd_to_nanos("0.002")

    refused = await panel.browser.get(
        "/api/v1/store/weather/elsewhere", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 404

    listing = await panel.browser.get("/admin/store")
    assert listing.status_code == 200
    assert "Weather API" in listing.text and "0.002" in listing.text and "On sale" in listing.text


async def test_the_secret_is_never_shown_nor_audited_and_fields_are_saved(
    panel: Panel, upstream: FakeHttpApi
) -> None:
    await panel.action("/admin/store", "/admin/store", _product(upstream))
    url = "/admin/store/weather"
    await panel.action(
        url,
        url,
        {
            **_product(
                upstream,
                auth_secret="replacement-secret-987654321",
                price_per_call="0.003",
                allowed_methods="POST",
            ),
            "slug": "",
        },
    )
    for path in ("/admin/store", url, "/admin/audit"):
        page = await panel.browser.get(path)
        assert page.status_code == 200, path
        for secret in (SECRET, "replacement-secret-987654321"):
            assert secret not in page.text and secret[-10:] not in page.text, path
    async with panel.browser.services.sessions() as session:
        row = await session.scalar(select(StoreProduct).where(StoreProduct.slug == "weather"))
    assert row is not None and row.auth_secret_encrypted and SECRET not in row.auth_secret_encrypted
    assert row.price_per_call_nanos == usd_to_nanos("0.003")
    assert row.rate_limit_per_minute == 60 and row.timeout_seconds == 10.0
    assert row.max_request_bytes == 1000 and row.max_response_bytes == 100000
    assert row.path_patterns == ["forecast/*", "status/*"] and row.category == "data"
    assert row.docs_markdown.startswith("# Weather") and row.allow_private_network
    audits = await _audits(panel)
    assert [a.action for a in audits] == ["store.create", "store.update"]
    for a in audits:
        assert SECRET not in str(a.after) and "replacement-secret" not in str(a.after)
        assert "replacement-secret" not in str(a.before)
    assert audits[0].after is not None and audits[0].after["has_secret"] is True
    assert audits[1].after is not None and audits[1].after["auth_secret"] == "replaced"


async def test_a_form_error_keeps_the_typed_values_but_not_the_secret(
    panel: Panel, upstream: FakeHttpApi
) -> None:
    response = await panel.browser.submit(
        "/admin/store", "/admin/store", _product(upstream, price_per_call="cheap")
    )
    assert response.status_code == 400
    assert "Write a price in US dollars" in response.text
    assert "Weather API" in response.text and SECRET not in response.text
    assert await _audits(panel) == []


async def test_disabling_refuses_calls_and_enabling_restores_them(
    panel: Panel, upstream: FakeHttpApi
) -> None:
    await panel.action("/admin/store", "/admin/store", _product(upstream))
    _, token = await _buyer(panel)
    url = "/admin/store/weather"
    await panel.action(url, url + "/active", {})
    page = await panel.browser.get(url)
    assert "Disabled" in page.text
    answer = await panel.browser.get(
        "/api/v1/store/weather/forecast/paris", headers={"Authorization": f"Bearer {token}"}
    )
    # The store's documented refusal of a disabled product (README, tests/store/test_calls.py).
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "PRODUCT_UNAVAILABLE"
    await panel.action(url, url + "/active", {"active": "on"})
    again = await panel.browser.get(
        "/api/v1/store/weather/forecast/paris", headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status_code == 200, again.text
    actions = [a.action for a in await _audits(panel)]
    assert actions == ["store.create", "store.disable", "store.enable"]


async def test_the_test_button_shows_status_latency_and_bytes(panel: Panel, upstream: FakeHttpApi) -> None:
    await panel.action("/admin/store", "/admin/store", _product(upstream))
    response = await panel.browser.submit(
        "/admin/store/weather", "/admin/store/weather/test", {"path": "status/200", "method": "GET"}
    )
    assert response.status_code == 200, response.text[:2000]
    assert "The product answers" in response.text and "Status 200" in response.text
    assert "10 bytes" in response.text and " ms" in response.text
    assert upstream.requests[-1].headers["X-Api-Key"] == SECRET
    audits = await _audits(panel)
    assert audits[-1].action == "store.test" and audits[-1].after is not None
    assert audits[-1].after["status"] == 200


async def test_an_unknown_product_page_is_404(panel: Panel) -> None:
    assert (await panel.browser.get("/admin/store/nope")).status_code == 404
