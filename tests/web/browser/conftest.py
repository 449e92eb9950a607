"""Browser tests: a live ``modelsnest serve`` on a free port with a seeded SQLite database
(mails go to its outbox, e-mail verification on), and Debian's Chromium."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from modelsnest.catalog.seed import seed_catalog
from modelsnest.crypto import SecretBox
from modelsnest.db.engine import create_engine, create_session_factory
from modelsnest.db.url import to_async_url
from tests import services
from tests.live import SECRET_KEY, ServerProcess, start_server
from tests.web.browser.harness import CHROMIUM, CHROMIUM_ARGS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)


async def _seed(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=2)
    try:
        await seed_catalog(
            create_session_factory(engine),
            secret_box=SecretBox(SECRET_KEY),
            simulator_enabled=True,
            provider_keys={},
        )
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    services.require("Chromium (/usr/bin/chromium)", os.path.exists(CHROMIUM))
    return CHROMIUM


def _prepare_database(directory: Path) -> str:
    path = services.create_sqlite_template(directory)
    database_url = to_async_url(f"sqlite:///{path}")
    asyncio.run(_seed(database_url))
    return database_url


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("browser-site")
    # Sync Playwright keeps an event loop running in this thread: asyncio.run goes to another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        database_url = pool.submit(_prepare_database, directory).result()
    server = start_server(
        database_url,
        directory / "var",
        extra_env={"MODELSNEST_EMAIL_VERIFICATION": "true", "MODELSNEST_LOG_LEVEL": "WARNING"},
    )
    yield server
    server.stop()


# Module scope, not session: sync Playwright keeps an event loop running in this thread while
# it is open, and the async tests that run after the browser tests need the thread to themselves.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def chromium(playwright_instance: Playwright, chromium_path: str) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(chromium: Browser, live_site: ServerProcess) -> Iterator[BrowserContext]:
    # Reduced motion turns the design's transitions off (app.css honours it), so what a
    # check or a screenshot sees is never a colour half-way through a transition.
    context = chromium.new_context(
        base_url=live_site.base_url, viewport={"width": 1280, "height": 900}, reduced_motion="reduce"
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_site.base_url)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "status of 4" not in message.text
            else None
        ),
    )
    yield page
    assert errors == [], f"JavaScript errors in the page: {errors}"
