from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modelsnest.settings import Settings
from tests.conftest import make_settings
from tests.smtp import SmtpServer
from tests.web.helpers import Browser, browser_for


@pytest.fixture
def web_settings(sqlite_url: str, tmp_path: Path) -> Settings:
    """The embedded default (SQLite, outbox mail, no verification), as a page test sees it."""
    return make_settings(sqlite_url, tmp_path)


@pytest.fixture
async def browser(web_settings: Settings) -> AsyncIterator[Browser]:
    async with browser_for(web_settings) as b:
        yield b


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def site(web_settings: Settings) -> AsyncIterator[Browser]:
    """The public site with the seeded catalog (models, prices, docs, the simulator route)."""
    from modelsnest.catalog.seed import seed_catalog
    from modelsnest.crypto import SecretBox

    async with browser_for(web_settings) as b:
        await seed_catalog(
            b.services.sessions,
            secret_box=SecretBox(web_settings.resolved_secret_key()),
            simulator_enabled=True,
            provider_keys={},
        )
        b.services.gateway.catalog.invalidate()
        yield b


@pytest.fixture
async def web_settings_public(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Browser]:
    """The seeded site behind MODELSNEST_PUBLIC_URL (links use it, not the request's host)."""
    from modelsnest.catalog.seed import seed_catalog
    from modelsnest.crypto import SecretBox

    settings = make_settings(sqlite_url, tmp_path, public_url="https://api.modelsnest.example")
    async with browser_for(settings) as b:
        await seed_catalog(
            b.services.sessions,
            secret_box=SecretBox(settings.resolved_secret_key()),
            simulator_enabled=True,
            provider_keys={},
        )
        b.services.gateway.catalog.invalidate()
        yield b
