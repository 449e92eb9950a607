"""The app in-process (its lifespan run, its routes called through httpx's ASGI transport),
on a seeded database of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelsnest.app import create_app
from tests.conftest import make_settings
from tests.gateway.conftest import _seed
from tests.live import SECRET_KEY, Platform

AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def seeded_url(database_url: str) -> str:
    await _seed(database_url)
    return database_url


@pytest.fixture
def app_client(seeded_url: str, tmp_path: Path) -> AppClient:
    """``async with app_client(fast_lane=False, …settings) as client``: a running app."""

    @asynccontextmanager
    async def client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(
            seeded_url, tmp_path, secret_key=SECRET_KEY, cache_ttl_seconds=0.2, **overrides
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                yield http

    return client


@pytest.fixture
async def platform(seeded_url: str) -> AsyncIterator[Platform]:
    p = Platform(seeded_url)
    yield p
    await p.close()
