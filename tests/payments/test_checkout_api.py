"""``POST /api/v1/credits/checkout`` refuses every malformed request with a clear 400 in the
OpenAI error shape, before any payment row exists; amounts stay exact Decimal strings."""

from __future__ import annotations

from contextlib import AsyncExitStack
from decimal import Decimal
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from modelsnest.db.models import Payment
from tests.payments.conftest import Shop, open_shop, payment_settings

BAD_AMOUNTS: list[tuple[str, Any]] = [
    ("negative", "-10.00"),
    ("zero", "0"),
    ("zero number", 0),
    ("NaN string", "NaN"),
    ("Infinity string", "Infinity"),
    ("three decimals", "10.005"),
    ("three decimals number", "10.005 as number"),
    ("over the maximum", "10000.01"),
    ("below the minimum", "4.99"),
    ("non-numeric", "ten dollars"),
    ("exponent", "1e3"),
    ("empty", ""),
    ("boolean", True),
    ("null", None),
    ("list", ["10.00"]),
    ("object", {"value": "10.00"}),
]


async def _count(shop: Shop) -> int:
    async with shop.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Payment)) or 0)


@pytest.mark.parametrize(("case", "amount"), BAD_AMOUNTS, ids=[c for c, _ in BAD_AMOUNTS])
async def test_a_bad_amount_is_a_400_and_creates_no_payment(shop: Shop, case: str, amount: Any) -> None:
    buyer = await shop.account()
    if amount == "10.005 as number":
        content = b'{"provider": "stripe", "amount_usd": 10.005}'
    else:
        content = orjson.dumps({"provider": "stripe", "amount_usd": amount})
    response = await shop.client.post(
        "/api/v1/credits/checkout",
        content=content,
        headers={**buyer.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert (error["code"], error["param"]) == ("INVALID_AMOUNT", "amount_usd")
    assert await _count(shop) == 0
    assert shop.fakes.stripe.calls == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"provider": "stripe", "amount_usd": NaN}',
        b'{"provider": "stripe", "amount_usd": Infinity}',
        b'{"provider": "stripe", "amount_usd": -Infinity}',
        b"not json",
        b'["stripe", "10.00"]',
        b"",
    ],
)
async def test_non_json_numbers_and_non_objects_are_a_400(shop: Shop, body: bytes) -> None:
    buyer = await shop.account()
    response = await shop.client.post("/api/v1/credits/checkout", content=body, headers=buyer.headers)
    assert response.status_code == 400 and response.json()["error"]["type"] == "invalid_request_error"
    assert await _count(shop) == 0


@pytest.mark.parametrize(
    ("provider", "code"),
    [("square", "UNKNOWN_PROVIDER"), (None, "UNKNOWN_PROVIDER"), (3, "UNKNOWN_PROVIDER")],
)
async def test_an_unknown_provider_is_a_400(shop: Shop, provider: Any, code: str) -> None:
    buyer = await shop.account()
    response = await shop.client.post(
        "/api/v1/credits/checkout", json={"provider": provider, "amount_usd": "10.00"}, headers=buyer.headers
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)
    assert await _count(shop) == 0


async def test_an_unconfigured_provider_is_a_400(database_url: str, tmp_path: Any, fakes: Any) -> None:
    async with AsyncExitStack() as stack:
        shop = await open_shop(
            payment_settings(database_url, tmp_path, fakes, paypal_client_id=None), fakes, stack
        )
        buyer = await shop.account()
        response = await shop.client.post(
            "/api/v1/credits/checkout",
            json={"provider": "paypal", "amount_usd": "10.00"},
            headers=buyer.headers,
        )
        assert (response.status_code, response.json()["error"]["code"]) == (400, "PROVIDER_NOT_CONFIGURED")
        assert "stripe, coinbase" in response.json()["error"]["message"]
        assert [o.name for o in shop.services.payments.providers()] == ["stripe", "coinbase"]
        assert await _count(shop) == 0


async def test_amounts_as_json_numbers_are_taken_exactly(shop: Shop) -> None:
    buyer = await shop.account()
    response = await shop.client.post(
        "/api/v1/credits/checkout",
        content=b'{"provider": "paypal", "amount_usd": 19.90}',
        headers={**buyer.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert response.json()["amount_usd"] == "19.90"
    order = next(iter(shop.fakes.paypal.orders.values()))
    assert order["purchase_units"][0]["amount"]["value"] == "19.90"


async def test_the_bounds_are_inclusive_and_configurable(
    database_url: str, tmp_path: Any, fakes: Any
) -> None:
    settings = payment_settings(
        database_url, tmp_path, fakes, topup_min_usd=Decimal("1"), topup_max_usd=Decimal("50")
    )
    async with AsyncExitStack() as stack:
        shop = await open_shop(settings, fakes, stack)
        buyer = await shop.account()
        assert (await shop.checkout(buyer, "coinbase", "1.00"))["amount_usd"] == "1.00"
        assert (await shop.checkout(buyer, "coinbase", "50"))["amount_usd"] == "50.00"
        over = await shop.client.post(
            "/api/v1/credits/checkout",
            json={"provider": "coinbase", "amount_usd": "50.01"},
            headers=buyer.headers,
        )
        assert over.status_code == 400 and "$50.00" in over.json()["error"]["message"]


async def test_checkout_needs_an_api_key(shop: Shop) -> None:
    response = await shop.client.post(
        "/api/v1/credits/checkout", json={"provider": "stripe", "amount_usd": "10.00"}
    )
    assert response.status_code == 401
    assert await _count(shop) == 0


async def test_a_provider_failure_is_a_502_and_closes_the_attempt(
    database_url: str, tmp_path: Any, fakes: Any
) -> None:
    settings = payment_settings(database_url, tmp_path, fakes, paypal_client_secret="not-the-secret")
    async with AsyncExitStack() as stack:
        shop = await open_shop(settings, fakes, stack)
        buyer = await shop.account()
        response = await shop.client.post(
            "/api/v1/credits/checkout",
            json={"provider": "paypal", "amount_usd": "10.00"},
            headers=buyer.headers,
        )
        assert (response.status_code, response.json()["error"]["code"]) == (502, "PAYMENT_PROVIDER_ERROR")
        async with shop.sessions() as session:
            row = (await session.execute(select(Payment))).scalar_one()
        assert row.status == "failed" and "did not create the checkout" in (row.failure_reason or "")


async def test_listing_pages_newest_first(shop: Shop) -> None:
    buyer = await shop.account()
    ids = [(await shop.checkout(buyer, "coinbase", "5.00"))["id"] for _ in range(3)]
    first = (await shop.client.get("/api/v1/credits/payments?limit=2", headers=buyer.headers)).json()
    assert [p["id"] for p in first["data"]] == ids[::-1][:2] and first["has_more"] is True
    rest = (
        await shop.client.get(f"/api/v1/credits/payments?limit=2&before={ids[1]}", headers=buyer.headers)
    ).json()
    assert [p["id"] for p in rest["data"]] == [ids[0]] and rest["has_more"] is False
    assert [p["name"] for p in first["providers"]] == ["stripe", "paypal", "coinbase"]
