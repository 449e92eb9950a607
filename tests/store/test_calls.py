"""A store call forwards the customer's request to the operator's API byte for byte (method,
path, query, body, safe headers), adds the operator's credentials, streams the answer back and
charges the product's price once per successful call — and nothing otherwise."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from modelsnest.money import usd_to_nanos
from tests.fakes.http_api import FakeHttpApi
from tests.live import Platform
from tests.store.conftest import MakeProduct, bearer, settled

PRICE = usd_to_nanos("0.001")


async def _generation(client: httpx.AsyncClient, token: str, request_id: str) -> dict[str, object]:
    response = await client.get("/api/v1/generation", params={"id": request_id}, headers=bearer(token))
    assert response.status_code == 200, response.text
    data: dict[str, object] = json.loads(response.text, parse_float=Decimal)
    return data


@pytest.mark.parametrize(
    ("method", "content", "content_type"),
    [
        ("GET", None, None),
        ("POST", b'{"q": "caf\xc3\xa9", "n": 1}', "application/json"),
        (
            "POST",
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n\x00\x01\x02\xff\r\n--XyZ--\r\n",
            "multipart/form-data; boundary=XyZ",
        ),
        ("PUT", b"raw \x00 bytes \xfe", "application/octet-stream"),
        ("DELETE", None, None),
    ],
)
async def test_each_method_is_forwarded_byte_exact_and_charged_once(
    client: httpx.AsyncClient,
    platform: Platform,
    upstream: FakeHttpApi,
    make_product: MakeProduct,
    method: str,
    content: bytes | None,
    content_type: str | None,
) -> None:
    product = await make_product()
    account = await platform.account("1")
    headers = bearer(account.token) | {"X-Custom": "kept", "Cookie": "session=secret", "X-Api-Key": "mine"}
    if content_type:
        headers["Content-Type"] = content_type
    response = await client.request(
        method,
        f"/api/v1/store/{product.slug}/search/items?q=a%20b&tag=x&tag=y&empty=",
        content=content,
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.content == b"echo:" + (content or b"")
    assert response.headers["x-upstream"] == "yes"
    assert response.headers["x-modelsnest-cost-usd"] == "0.001"
    seen = upstream.requests[-1]
    assert seen.method == method
    assert seen.raw_path == "/v1/search/items?q=a%20b&tag=x&tag=y&empty="
    assert seen.body == (content or b"")
    assert seen.headers.get("X-Custom") == "kept"
    if content_type:
        assert seen.headers["Content-Type"] == content_type
    for private in ("Authorization", "Cookie", "X-Api-Key"):
        assert private not in seen.headers
    assert account.token not in str(dict(seen.headers))
    balance = await settled(platform, account.user_id)
    assert balance.balance_nanos == usd_to_nanos("1") - PRICE
    generation = await _generation(client, account.token, response.headers["x-request-id"])
    assert generation["model"] == f"store/{product.slug}"
    assert generation["cost_usd"] == Decimal("0.001")
    assert generation["status"] == "success"
    assert await platform.invariants(account.user_id) == []


async def test_the_operators_header_secret_is_injected_and_cannot_be_overridden(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product(auth_location="header", auth_name="X-Upstream-Key", auth_secret="op-secret")
    account = await platform.account("1")
    response = await client.get(
        f"/api/v1/store/{product.slug}/x",
        headers=bearer(account.token) | {"X-Upstream-Key": "customer-guess"},
    )
    assert response.status_code == 200
    seen = upstream.requests[-1]
    assert seen.headers.getall("X-Upstream-Key") == ["op-secret"]
    assert "Authorization" not in seen.headers


async def test_the_operators_query_secret_is_appended_and_replaces_the_customers(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product(auth_location="query", auth_name="api_key", auth_secret="s3cr3t+/")
    account = await platform.account("1")
    response = await client.get(
        f"/api/v1/store/{product.slug}/x?q=1&api_key=guess", headers=bearer(account.token)
    )
    assert response.status_code == 200
    assert upstream.requests[-1].raw_path == "/v1/x?q=1&api_key=s3cr3t%2B%2F"


async def test_a_large_answer_streams_back_whole_and_is_billed_per_mb(
    client: httpx.AsyncClient, platform: Platform, make_product: MakeProduct
) -> None:
    size = 12 * 1024 * 1024 + 7
    product = await make_product(
        price_per_call_nanos=usd_to_nanos("0.001"),
        price_per_mb_nanos=usd_to_nanos("0.01"),
        max_response_bytes=20 * 1024 * 1024,
    )
    account = await platform.account("1")
    received = 0
    chunks = 0
    async with client.stream(
        "GET", f"/api/v1/store/{product.slug}/big?bytes={size}&chunk=65536", headers=bearer(account.token)
    ) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers  # streamed, not buffered
        async for chunk in response.aiter_raw():
            received += len(chunk)
            chunks += 1
    assert received == size and chunks > 1
    balance = await settled(platform, account.user_id)
    # $0.001 + $0.01 × 12 582 919 / 10^6, rounded up once to a whole nano-dollar.
    expected = usd_to_nanos("0.001") + -(-usd_to_nanos("0.01") * size // 1_000_000)
    assert usd_to_nanos("1") - balance.balance_nanos == expected
    assert await platform.invariants(account.user_id) == []


@pytest.mark.parametrize("path", ["status/400", "status/404", "status/429"])
async def test_a_4xx_is_passed_back_and_not_charged_by_default(
    client: httpx.AsyncClient, platform: Platform, make_product: MakeProduct, path: str
) -> None:
    product = await make_product()
    account = await platform.account("1")
    response = await client.get(f"/api/v1/store/{product.slug}/{path}", headers=bearer(account.token))
    assert response.status_code == int(path.split("/")[1])
    assert response.content == f"status {path.split('/')[1]}".encode()
    balance = await settled(platform, account.user_id)
    assert balance.balance_nanos == usd_to_nanos("1") and balance.reserved_nanos == 0
    generation = await _generation(client, account.token, response.headers["x-request-id"])
    assert generation["cost_usd"] == 0 and generation["status"] == "error"


async def test_any_answer_policy_charges_a_4xx(
    client: httpx.AsyncClient, platform: Platform, make_product: MakeProduct
) -> None:
    product = await make_product(billing_policy="any_answer")
    account = await platform.account("1")
    response = await client.get(f"/api/v1/store/{product.slug}/status/404", headers=bearer(account.token))
    assert response.status_code == 404
    balance = await settled(platform, account.user_id)
    assert balance.balance_nanos == usd_to_nanos("1") - PRICE


@pytest.mark.parametrize("policy", ["2xx", "any_answer"])
async def test_an_upstream_5xx_is_a_502_and_costs_nothing(
    client: httpx.AsyncClient, platform: Platform, make_product: MakeProduct, policy: str
) -> None:
    product = await make_product(billing_policy=policy)
    account = await platform.account("1")
    response = await client.get(f"/api/v1/store/{product.slug}/status/503", headers=bearer(account.token))
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "UPSTREAM_ERROR"
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


async def test_a_slow_upstream_is_a_504_and_costs_nothing(
    client: httpx.AsyncClient, platform: Platform, make_product: MakeProduct
) -> None:
    product = await make_product(timeout_seconds=0.5)
    account = await platform.account("1")
    response = await client.get(f"/api/v1/store/{product.slug}/slow?seconds=3", headers=bearer(account.token))
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "UPSTREAM_TIMEOUT"
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


async def test_an_upstream_that_stalls_mid_answer_is_cut_and_costs_nothing(
    client: httpx.AsyncClient, platform: Platform, make_product: MakeProduct
) -> None:
    product = await make_product(timeout_seconds=0.5)
    account = await platform.account("1")
    with pytest.raises(httpx.HTTPError):
        async with client.stream(
            "GET", f"/api/v1/store/{product.slug}/stall?seconds=3", headers=bearer(account.token)
        ) as response:
            async for _ in response.aiter_raw():
                pass
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


async def test_an_answer_over_the_size_cap_is_refused_and_costs_nothing(
    client: httpx.AsyncClient, platform: Platform, make_product: MakeProduct
) -> None:
    product = await make_product(max_response_bytes=1000)
    account = await platform.account("1")
    declared = await client.get(
        f"/api/v1/store/{product.slug}/sized?bytes=5000", headers=bearer(account.token)
    )
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "RESPONSE_TOO_LARGE"
    with pytest.raises(httpx.HTTPError):
        async with client.stream(
            "GET", f"/api/v1/store/{product.slug}/big?bytes=5000&chunk=500", headers=bearer(account.token)
        ) as response:
            async for _ in response.aiter_raw():
                pass
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


async def test_a_request_body_over_the_cap_is_a_413_and_never_sent(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product(max_request_bytes=100)
    account = await platform.account("1")
    response = await client.post(
        f"/api/v1/store/{product.slug}/x", content=b"x" * 101, headers=bearer(account.token)
    )
    assert response.status_code == 413
    assert upstream.requests == []
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


async def test_our_refusals_cost_nothing_and_reach_no_upstream(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product(allowed_methods=("GET",), path_patterns=("search/*",))
    account = await platform.account("1")
    auth = bearer(account.token)
    unknown = await client.get("/api/v1/store/no-such-product/x", headers=auth)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "PRODUCT_NOT_FOUND"
    no_key = await client.get(f"/api/v1/store/{product.slug}/search/a")
    assert no_key.status_code == 401 and no_key.json()["error"]["code"] == "MISSING_AUTH_HEADER"
    bad_key = await client.get(f"/api/v1/store/{product.slug}/search/a", headers=bearer("ptr_nope"))
    assert bad_key.status_code == 401
    method = await client.post(f"/api/v1/store/{product.slug}/search/a", headers=auth)
    assert method.status_code == 405
    path = await client.get(f"/api/v1/store/{product.slug}/admin/a", headers=auth)
    assert path.status_code == 404 and path.json()["error"]["code"] == "PATH_NOT_FOUND"
    assert upstream.requests == []
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


async def test_a_disabled_product_is_refused(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    from modelsnest.store import products

    product = await make_product()
    await products.set_active(platform.sessions, product.slug, False)
    await asyncio.sleep(0.2)  # the app's product cache refreshes every 0.1 s in these tests
    account = await platform.account("1")
    response = await client.get(f"/api/v1/store/{product.slug}/x", headers=bearer(account.token))
    assert response.status_code == 400 and response.json()["error"]["code"] == "PRODUCT_UNAVAILABLE"
    assert upstream.requests == []


async def test_without_enough_credit_the_call_is_a_402_and_never_sent(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product(price_per_call_nanos=usd_to_nanos("2"))
    account = await platform.account("1")
    response = await client.get(f"/api/v1/store/{product.slug}/x", headers=bearer(account.token))
    assert response.status_code == 402 and response.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    assert upstream.requests == []


async def test_the_per_key_rate_limit_of_a_product(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product(rate_limit_per_minute=2)
    account = await platform.account("1")
    codes = [
        (await client.get(f"/api/v1/store/{product.slug}/x", headers=bearer(account.token))).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    assert len(upstream.requests) == 2
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1") - 2 * PRICE


async def test_concurrent_calls_never_spend_more_than_the_balance(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product(price_per_call_nanos=usd_to_nanos("0.1"))
    account = await platform.account("0.5")  # credit for 5 calls
    responses = await asyncio.gather(
        *[
            client.get(f"/api/v1/store/{product.slug}/slow?seconds=0.3", headers=bearer(account.token))
            for _ in range(12)
        ]
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 5 and codes.count(402) == 7
    balance = await settled(platform, account.user_id)
    assert balance.balance_nanos == 0 and balance.reserved_nanos == 0
    assert len(upstream.requests) == 5
    assert await platform.invariants(account.user_id) == []


async def test_a_client_that_hangs_up_pays_the_call_and_the_bytes_it_was_sent(
    client: httpx.AsyncClient, platform: Platform, make_product: MakeProduct
) -> None:
    product = await make_product(price_per_call_nanos=usd_to_nanos("0.001"))
    account = await platform.account("1")
    async with client.stream(
        "GET", f"/api/v1/store/{product.slug}/stall?seconds=2", headers=bearer(account.token)
    ) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_raw():
            assert chunk.startswith(b"first")
            break  # hang up after the first chunk
    balance = await settled(platform, account.user_id, within=5)
    assert balance.reserved_nanos == 0
    assert balance.balance_nanos == usd_to_nanos("1") - usd_to_nanos("0.001")
    assert await platform.invariants(account.user_id) == []


async def test_a_key_limited_to_some_models_may_not_call_other_products(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product()
    limited = await platform.account("1", allowed_models=["deepseek"])
    allowed = await platform.account("1", allowed_models=[f"store/{product.slug}"])
    refused = await client.get(f"/api/v1/store/{product.slug}/x", headers=bearer(limited.token))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "PRODUCT_NOT_ALLOWED"
    assert (
        await client.get(f"/api/v1/store/{product.slug}/x", headers=bearer(allowed.token))
    ).status_code == 200
    assert len(upstream.requests) == 1


async def test_head_is_forwarded_without_a_body(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product(allowed_methods=("HEAD",))
    account = await platform.account("1")
    response = await client.head(f"/api/v1/store/{product.slug}/x", headers=bearer(account.token))
    assert response.status_code == 200 and response.content == b""
    assert upstream.requests[-1].method == "HEAD"


async def test_a_chunked_body_over_the_cap_is_cut_off_with_a_413_and_costs_nothing(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product(max_request_bytes=1000)
    account = await platform.account("1")

    async def body() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 500

    response = await client.post(
        f"/api/v1/store/{product.slug}/x", content=body(), headers=bearer(account.token)
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert all(len(seen.body) <= 1000 for seen in upstream.requests)  # never more than the cap went on
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


async def test_a_chunked_body_within_the_cap_is_forwarded_whole(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product(max_request_bytes=10_000)
    account = await platform.account("1")

    async def body() -> AsyncIterator[bytes]:
        for i in range(5):
            yield bytes([48 + i]) * 1000

    response = await client.post(
        f"/api/v1/store/{product.slug}/x", content=body(), headers=bearer(account.token)
    )
    assert response.status_code == 200
    assert upstream.requests[-1].body == b"".join(bytes([48 + i]) * 1000 for i in range(5))


async def test_an_upstream_that_refuses_connections_is_a_502_and_costs_nothing(
    client: httpx.AsyncClient, platform: Platform, make_product: MakeProduct
) -> None:
    from tests.live import free_port

    product = await make_product(upstream_base_url=f"http://127.0.0.1:{free_port()}/")
    account = await platform.account("1")
    response = await client.get(f"/api/v1/store/{product.slug}/x", headers=bearer(account.token))
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "UPSTREAM_ERROR"
    balance = await settled(platform, account.user_id)
    assert balance.balance_nanos == usd_to_nanos("1") and balance.reserved_nanos == 0


async def test_sales_per_product_add_up_from_the_usage_rollups(
    client: httpx.AsyncClient, platform: Platform, make_product: MakeProduct
) -> None:
    from modelsnest.store.stats import product_sales

    product = await make_product()
    account = await platform.account("1")
    for path in ("a", "b", "status/500"):
        await client.get(f"/api/v1/store/{product.slug}/{path}", headers=bearer(account.token))
    await settled(platform, account.user_id)
    [sales] = [s for s in await product_sales(platform.sessions) if s.slug == product.slug]
    assert (sales.calls, sales.errors, sales.revenue_nanos) == (3, 1, 2 * PRICE)
    assert sales.response_bytes == 2 * len(b"echo:")
    assert await product_sales(platform.sessions, user_id=account.user_id + 1000) == []
