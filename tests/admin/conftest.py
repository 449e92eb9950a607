"""An administrator signed in to the real application (SQLite, outbox mail), and a customer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelsnest.auth.users import UserView, create_user
from modelsnest.settings import Settings
from tests.conftest import make_settings
from tests.web.helpers import STRONG_PASSWORD, Browser, browser_for, csrf_of

ADMIN_EMAIL = "ops@modelsnest.example"
CUSTOMER_EMAIL = "ada@customer.example"


@dataclass
class Panel:
    browser: Browser
    admin: UserView
    customer: UserView

    async def action(self, page: str, action: str, data: dict[str, str] | None = None) -> str:
        """Open ``page`` and post ``data`` to ``action`` with the page's CSRF token; returns
        where the answer redirected to."""
        response = await self.browser.submit(page, action, data or {})
        assert response.status_code == 303, response.text[:3000]
        return response.headers["location"]

    async def credit_form_key(self, user_id: int, kind: str = "topup") -> tuple[str, str]:
        page = await self.browser.get(f"/admin/users/{user_id}/credits?kind={kind}")
        assert page.status_code == 200
        key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
        assert key is not None
        return csrf_of(page.text), key.group(1)


@pytest.fixture
def web_settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return make_settings(sqlite_url, tmp_path)


@asynccontextmanager
async def panel_on(settings: Settings) -> AsyncIterator[Panel]:
    async with browser_for(settings) as b:
        sessions = b.services.sessions
        admin = await create_user(sessions, email=ADMIN_EMAIL, password=STRONG_PASSWORD, role="admin")
        customer = await create_user(sessions, email=CUSTOMER_EMAIL, password=STRONG_PASSWORD)
        signed = await b.sign_in(ADMIN_EMAIL)
        assert signed.status_code == 303, signed.text[:2000]
        yield Panel(b, admin, customer)


@pytest.fixture
async def panel(web_settings: Settings) -> AsyncIterator[Panel]:
    async with panel_on(web_settings) as found:
        yield found


@pytest.fixture
async def pg_panel(postgres_url: str, tmp_path: Path) -> AsyncIterator[Panel]:
    """The same, on PostgreSQL (row locks, JSON columns, the audit table's migration)."""
    async with panel_on(make_settings(postgres_url, tmp_path)) as found:
        yield found


@pytest.fixture
async def seeded(panel: Panel) -> Panel:
    """The panel over the seeded catalog (models, prices, the simulator provider and routes)."""
    from modelsnest.catalog.seed import seed_catalog
    from modelsnest.crypto import SecretBox

    services = panel.browser.services
    await seed_catalog(
        services.sessions,
        secret_box=SecretBox(services.settings.resolved_secret_key()),
        simulator_enabled=True,
        provider_keys={},
    )
    services.gateway.catalog.invalidate()
    return panel
