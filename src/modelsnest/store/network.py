"""The store's HTTP plumbing: requests go to a checked address (``safety.resolve``) with the
name kept for Host and TLS, and built-ins fetch public pages under the same rules."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import httpx

from modelsnest.errors import InvalidRequest, PayloadTooLarge, UpstreamTimeout
from modelsnest.store.builtins import Fetch
from modelsnest.store.safety import Target, forward_headers, resolve
from modelsnest.store.types import LiveProduct, ProductView

MAX_FETCH_REDIRECTS = 3


def new_client(*, keepalive: bool = True) -> httpx.AsyncClient:
    """Redirects are never followed by the client itself; no proxy from the environment."""
    limits = httpx.Limits() if keepalive else httpx.Limits(max_keepalive_connections=0)
    return httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=None, limits=limits)


class Clients:
    """One pooled client per upstream host name. We connect to checked addresses, and a pool
    keys its connections by address: sharing one between names would let a TLS connection made
    for one host (its SNI and certificate) carry another host's requests."""

    def __init__(self) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}

    def for_host(self, host: str) -> httpx.AsyncClient:
        client = self._clients.get(host)
        if client is None:
            client = self._clients[host] = new_client()
        return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


def query_suffix(query: str) -> str:
    return f"?{query}" if query else ""


def extensions(target: Target, timeout: float) -> dict[str, Any]:
    """Per-request timeouts, and the TLS name of the host (we connect to its checked address)."""
    ext: dict[str, Any] = {
        "timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    }
    if target.scheme == "https":
        ext["sni_hostname"] = target.host
    return ext


async def prepare_upstream(
    product: LiveProduct, path: str, query: str, headers: Sequence[tuple[str, str]]
) -> tuple[str, Target, list[tuple[str, str]]]:
    """The upstream URL (base + checked path + query, with the operator's secret when it goes
    in the query), the checked address, and the headers to send (the customer's safe ones, the
    operator's secret when it goes in a header, and Host)."""
    view = product.view
    assert view.upstream_base_url is not None
    drop = [view.auth_name] if view.auth_location == "header" and view.auth_name else []
    forwarded = forward_headers(headers, drop=drop)
    if view.auth_location == "header" and view.auth_name and product.auth_secret:
        forwarded.append((view.auth_name, product.auth_secret))
    if view.auth_location == "query" and view.auth_name and product.auth_secret:
        name = view.auth_name
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key == name for key, _ in pairs):  # the customer may not set the operator's parameter
            query = urlencode([(k, v) for k, v in pairs if k != name])
        secret = f"{quote(name, safe='')}={quote(product.auth_secret, safe='')}"
        query = f"{query}&{secret}" if query else secret
    url = view.upstream_base_url + path + query_suffix(query)
    target = await resolve(url, allow_private=view.allow_private_network)
    forwarded.append(("Host", target.host_header))
    return url, target, forwarded


def fetcher(client: httpx.AsyncClient, view: ProductView) -> Fetch:
    async def fetch(url: str) -> tuple[bytes, str]:
        return await fetch_page(
            client,
            url,
            allow_private=view.allow_private_network,
            cap=view.max_response_bytes,
            seconds=view.timeout_seconds,
        )

    return fetch


async def fetch_page(
    client: httpx.AsyncClient, url: str, *, allow_private: bool, cap: int, seconds: float
) -> tuple[bytes, str]:
    """GET a page for a built-in, with the store's network rules on every hop (redirects
    followed at most 3 times, each target resolved and checked again)."""
    try:
        async with asyncio.timeout(seconds):
            for _ in range(MAX_FETCH_REDIRECTS + 1):
                parts = httpx.URL(url)
                target = await resolve(url, allow_private=allow_private)
                path = parts.raw_path.decode("ascii") or "/"
                request = client.build_request(
                    "GET",
                    target.url(path),
                    headers={
                        "Host": target.host_header,
                        "Accept": "text/html,*/*;q=0.5",
                        "User-Agent": "Modelsnest-Store/1.0",
                    },
                    extensions=extensions(target, seconds),
                )
                response = await client.send(request, stream=True)
                try:
                    if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                        url = str(parts.join(response.headers["location"]))
                        continue
                    if response.status_code >= 400:
                        raise InvalidRequest(
                            f"{url} answered HTTP {response.status_code}.",
                            code="URL_FETCH_FAILED",
                            param="url",
                        )
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > cap:
                            raise PayloadTooLarge(
                                f"The page is larger than {cap} bytes.", code="RESPONSE_TOO_LARGE"
                            )
                    return bytes(body), response.headers.get("content-type", "")
                finally:
                    await response.aclose()
            raise InvalidRequest(f"{url} redirects too often.", code="URL_FETCH_FAILED", param="url")
    except TimeoutError:
        raise UpstreamTimeout(f"fetching {url} took longer than {seconds:g} s") from None
    except httpx.HTTPError as exc:
        raise InvalidRequest(
            f"{url} could not be fetched ({type(exc).__name__}).", code="URL_FETCH_FAILED", param="url"
        ) from None
