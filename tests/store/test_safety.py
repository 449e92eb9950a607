"""A store call can never leave the operator's product: the path cannot climb out of the
base, the host cannot change (not by the path, not by a redirect, not by DNS), private
networks are refused unless the product allows them, and every refusal costs nothing and
reaches no server."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from modelsnest.errors import InvalidRequest, PermissionDenied
from modelsnest.money import usd_to_nanos
from modelsnest.store.safety import (
    address_refused,
    check_base_url,
    check_path,
    forward_headers,
    resolve,
    rewrite_location,
)
from tests.fakes.http_api import FakeHttpApi
from tests.live import Platform
from tests.store.conftest import MakeProduct, bearer, settled


async def _raw_request(server: str, target: str, token: str) -> int:
    """Send the request line exactly as given (httpx would normalise the path first)."""
    host, port = server.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Connection: close\r\n\r\n".encode("latin-1")
    )
    await writer.drain()
    status_line = await reader.readline()
    await reader.read()
    writer.close()
    return int(status_line.split()[1])


TRAVERSALS = [
    "../secret",
    "a/../../secret",
    "./a",
    "%2e%2e/secret",
    "%2E%2E%2Fsecret",
    "a%2fb",
    "a%5cb",
    "a\\..\\b",
    "@127.0.0.1/x",
    "x@127.0.0.1",
    "http://127.0.0.1:{other}/x",
    "//127.0.0.1:{other}/x",
    "/127.0.0.1:{other}/x",
    "a%00b",
    "a%252e%252e/b",
]


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_a_path_that_could_escape_the_base_is_a_400_and_reaches_nothing(
    server: str,
    platform: Platform,
    upstream: FakeHttpApi,
    other_host: FakeHttpApi,
    make_product: MakeProduct,
    path: str,
) -> None:
    product = await make_product()
    account = await platform.account("1")
    status = await _raw_request(
        server, f"/api/v1/store/{product.slug}/" + path.format(other=other_host.port), account.token
    )
    assert status == 400
    assert upstream.requests == [] and other_host.requests == []
    balance = await settled(platform, account.user_id)
    assert balance.balance_nanos == usd_to_nanos("1") and balance.reserved_nanos == 0


async def test_a_redirect_to_another_host_is_not_followed_nor_shown(
    client: httpx.AsyncClient,
    platform: Platform,
    upstream: FakeHttpApi,
    other_host: FakeHttpApi,
    make_product: MakeProduct,
) -> None:
    product = await make_product()
    account = await platform.account("1")
    response = await client.get(
        f"/api/v1/store/{product.slug}/redirect",
        params={"to": f"{other_host.url}/steal"},
        headers=bearer(account.token),
    )
    assert response.status_code == 302
    assert "location" not in response.headers
    assert other_host.requests == [] and len(upstream.requests) == 1
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")  # a 3xx is not a 2xx


async def test_a_redirect_inside_the_product_is_shown_as_its_store_url(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct
) -> None:
    product = await make_product()
    account = await platform.account("1")
    response = await client.get(
        f"/api/v1/store/{product.slug}/redirect",
        params={"to": f"{upstream.url}/v1/items/2?page=3"},
        headers=bearer(account.token),
    )
    assert response.status_code == 302
    assert response.headers["location"] == f"/api/v1/store/{product.slug}/items/2?page=3"
    assert len(upstream.requests) == 1  # not followed


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_private_upstream_is_refused_unless_the_product_allows_it(
    client: httpx.AsyncClient, platform: Platform, upstream: FakeHttpApi, make_product: MakeProduct, host: str
) -> None:
    product = await make_product(
        upstream_base_url=f"http://{host}:{upstream.port}/v1/", allow_private_network=False
    )
    account = await platform.account("1")
    response = await client.get(f"/api/v1/store/{product.slug}/x", headers=bearer(account.token))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PRIVATE_NETWORK_REFUSED"
    assert upstream.requests == []
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


async def test_html_to_markdown_refuses_to_fetch_a_private_url(
    client: httpx.AsyncClient, platform: Platform, other_host: FakeHttpApi
) -> None:
    account = await platform.account("1")
    response = await client.post(
        "/api/v1/store/html-to-markdown/convert",
        json={"url": f"{other_host.url}/page"},
        headers=bearer(account.token),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "PRIVATE_NETWORK_REFUSED"
    assert other_host.requests == []
    assert (await settled(platform, account.user_id)).balance_nanos == usd_to_nanos("1")


@pytest.mark.parametrize("target", ["http://user:pw@127.0.0.1:{port}/page", "file:///etc/passwd"])
async def test_a_fetched_pages_redirects_are_checked_again_on_every_hop(target: str) -> None:
    from modelsnest.store.network import fetch_page, new_client

    async with FakeHttpApi() as first, FakeHttpApi() as second, new_client() as http:
        url = f"{first.url}/redirect?" + httpx.QueryParams({"to": target.format(port=second.port)}).__str__()
        with pytest.raises(InvalidRequest):
            await fetch_page(http, url, allow_private=True, cap=10_000, seconds=5)
        assert len(first.requests) == 1 and second.requests == []


async def test_a_fetched_page_follows_a_checked_redirect(upstream: FakeHttpApi) -> None:
    from modelsnest.store.network import fetch_page, new_client

    async with new_client() as http:
        body, content_type = await fetch_page(
            http, f"{upstream.url}/redirect?to=/v1/page", allow_private=True, cap=100_000, seconds=5
        )
    assert b"<h1>Sample page</h1>" in body and content_type.startswith("text/html")
    assert [seen.raw_path for seen in upstream.requests] == ["/redirect?to=/v1/page", "/v1/page"]


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("::1", True),
        ("fe80::1", True),
        ("fd00::1", True),
        ("::ffff:127.0.0.1", True),
        ("224.0.0.1", True),
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_which_addresses_are_private(address: str, refused: bool) -> None:
    assert address_refused(address) is refused


async def test_every_resolved_address_is_checked() -> None:
    with pytest.raises(PermissionDenied):
        await resolve("http://localhost:1/x", allow_private=False)
    target = await resolve("http://localhost:8080/x", allow_private=True)
    assert target.address in ("127.0.0.1", "::1") and target.host_header == "localhost:8080"


@pytest.mark.parametrize("path", ["", "a", "a/b.json", "search%20term/x", "v1/items:batch", "a/b/"])
def test_ordinary_paths_pass(path: str) -> None:
    assert check_path(path) == path


@pytest.mark.parametrize("path", [p.format(other=1) for p in TRAVERSALS] + ["a//b", "javascript:x", "a\x00"])
def test_escaping_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidRequest):
        check_path(path)


def test_line_breaks_in_forwarded_headers_are_refused_and_credentials_dropped() -> None:
    with pytest.raises(InvalidRequest):
        forward_headers([("X-A", "b\r\nHost: evil")])
    with pytest.raises(InvalidRequest):
        forward_headers([("X-A", "b\nc")])
    kept = forward_headers(
        [
            ("Authorization", "Bearer ptr_x"),
            ("Cookie", "a=b"),
            ("X-Api-Key", "k"),
            ("Connection", "keep-alive, X-Hop"),
            ("X-Hop", "1"),
            ("Transfer-Encoding", "chunked"),
            ("X-Forwarded-For", "1.2.3.4"),
            ("Accept", "application/json"),
        ]
    )
    assert kept == [("Accept", "application/json")]


@pytest.mark.parametrize(
    "url",
    ["ftp://x/", "http://user:pw@x/", "http://x/?a=1", "http://x/#f", "file:///etc/passwd", "http:///x"],
)
def test_an_operators_base_url_must_be_a_plain_http_url(url: str) -> None:
    with pytest.raises(InvalidRequest):
        check_base_url(url)


def test_base_urls_are_normalised_to_end_in_a_slash() -> None:
    assert check_base_url("https://api.example.com/v2") == "https://api.example.com/v2/"


def test_redirect_targets_outside_the_base_are_dropped() -> None:
    base = "https://api.example.com/v1/"
    store = "/api/v1/store/p/"
    assert rewrite_location("/v1/a?b=1", base + "x", base, store) == "/api/v1/store/p/a?b=1"
    assert rewrite_location("b", base + "x/y", base, store) == "/api/v1/store/p/x/b"
    assert rewrite_location("/other", base + "x", base, store) is None
    assert rewrite_location("https://evil.example/v1/a", base + "x", base, store) is None
    assert rewrite_location("http://api.example.com/v1/a", base + "x", base, store) is None
