"""The app served by a real uvicorn on 127.0.0.1 (so answers really stream), a fake HTTP API
upstream (and a second one that must never be reached), accounts with ``ptr_`` keys, and
products created through the store's own service functions."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from modelsnest.app import create_app
from modelsnest.crypto import SecretBox
from modelsnest.db.engine import create_session_factory
from modelsnest.store import products
from modelsnest.store.seed import sync_store_products
from modelsnest.store.types import ProductSpec, ProductView
from tests.conftest import make_settings
from tests.fakes.http_api import FakeHttpApi
from tests.live import SECRET_KEY, Platform, free_port


@pytest.fixture
async def upstream() -> AsyncIterator[FakeHttpApi]:
    async with FakeHttpApi() as fake:
        yield fake


@pytest.fixture
async def other_host() -> AsyncIterator[FakeHttpApi]:
    """A second server: a request that escaped its product would land here."""
    async with FakeHttpApi() as fake:
        yield fake


@pytest.fixture
async def platform(database_url: str) -> AsyncIterator[Platform]:
    p = Platform(database_url)
    async with p.sessions() as session, session.begin():
        await sync_store_products(session, {})
    yield p
    await p.close()


@pytest.fixture
async def server(platform: Platform, tmp_path: Path) -> AsyncIterator[str]:
    """The base URL of the app, served by uvicorn in this event loop."""
    settings = make_settings(platform.database_url, tmp_path, secret_key=SECRET_KEY, cache_ttl_seconds=0.1)
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    for _ in range(200):
        if uv.started:
            break
        await asyncio.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    await asyncio.wait_for(task, 15)


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        yield http


MakeProduct = Callable[..., Awaitable[ProductView]]


@pytest.fixture
def make_product(platform: Platform, upstream: FakeHttpApi) -> MakeProduct:
    async def make(**fields: Any) -> ProductView:
        slug = fields.pop("slug", f"p-{secrets.token_hex(4)}")
        values: dict[str, Any] = {
            "name": "Test API",
            "upstream_base_url": upstream.url + "/v1/",
            "allowed_methods": ("GET", "POST", "PUT", "DELETE", "PATCH"),
            "path_patterns": ("*",),
            "price_per_call_nanos": 1_000_000,  # $0.001
            "allow_private_network": True,  # the fakes live on 127.0.0.1
        }
        values.update(fields)
        view = await products.create_product(
            platform.sessions, SecretBox(SECRET_KEY), slug, ProductSpec(**values)
        )
        return view

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def settled(platform: Platform, user_id: int, *, within: float = 3.0) -> Any:
    """The balance once no hold is left (a streamed answer settles right after its last byte)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        balance = await platform.balance(user_id)
        if balance.reserved_nanos == 0 or asyncio.get_running_loop().time() > deadline:
            return balance
        await asyncio.sleep(0.05)


__all__ = ["MakeProduct", "bearer", "create_session_factory", "settled"]
