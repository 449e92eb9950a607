"""An in-process browser for page tests: the real application (lifespan, middleware, error
handlers) behind httpx's ASGI transport, with a cookie jar, CSRF tokens read from the pages
like a browser would, and helpers that sign up and sign in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp
from fastapi import FastAPI

from modelsnest.app import create_app
from modelsnest.services import Services
from modelsnest.settings import Settings

STRONG_PASSWORD = "violet-kettle-orbit-42"
OTHER_STRONG_PASSWORD = "saffron-glacier-tuba-77"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html) or _META_CSRF.search(html)
    assert match is not None, "the page has no CSRF token"
    return match.group(1)


@dataclass
class Browser:
    client: httpx.AsyncClient
    app: FastAPI

    @property
    def services(self) -> Services:
        found: Services = self.app.state.services
        return found

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, data=data or {}, **kwargs)

    async def submit(
        self, page_path: str, action: str | None = None, data: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Open ``page_path``, read its CSRF token, post ``data`` to ``action`` (default: the same path)."""
        page = await self.get(page_path)
        assert page.status_code == 200, f"GET {page_path} → {page.status_code}"
        return await self.post(
            action or page_path, {"csrf_token": csrf_of(page.text), **(data or {})}, **kwargs
        )

    async def sign_up(self, email: str, password: str = STRONG_PASSWORD, **extra: Any) -> httpx.Response:
        response = await self.submit(
            "/signup", data={"email": email, "password": password, "accept_terms": "on", **extra}
        )
        assert response.status_code == 303, response.text[:2000]
        return response

    async def sign_in(self, email: str, password: str = STRONG_PASSWORD, **extra: Any) -> httpx.Response:
        return await self.submit("/login", data={"email": email, "password": password, **extra})

    async def enrol_two_factor(self) -> tuple[str, list[str]]:
        """Turn 2FA on for the signed-in user; returns the TOTP secret and the recovery codes."""
        page = await self.get("/dashboard/settings/two-factor")
        assert page.status_code == 200
        secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page.text)
        assert secret is not None
        key = secret.group(1).replace(" ", "")
        done = await self.post(
            "/dashboard/settings/two-factor",
            {"csrf_token": csrf_of(page.text), "code": pyotp.TOTP(key).now()},
        )
        assert done.status_code == 200, done.text[:2000]
        codes = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", done.text)
        assert len(codes) == 10
        return key, codes

    def session_cookie(self) -> str | None:
        return self.client.cookies.get("ms_session")


@asynccontextmanager
async def browser_for(
    settings: Settings, *, client_ip: str = "203.0.113.7", base_url: str = "http://testserver"
) -> AsyncIterator[Browser]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=(client_ip, 50123))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=base_url, follow_redirects=False) as client,
    ):
        yield Browser(client=client, app=app)


async def second_browser(first: Browser, *, client_ip: str = "198.51.100.9") -> httpx.AsyncClient:
    """Another visitor (own cookies) of the same running application."""
    transport = httpx.ASGITransport(app=first.app, client=(client_ip, 50124))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False)
