"""Shared steps of the usage/billing/notification page tests: a signed-up user with credits and
keys, and real requests through the API (the simulator answers) so the rollups are real."""

from __future__ import annotations

from typing import Any

import httpx

from modelsnest import billing
from modelsnest.auth.api_keys import create_key
from tests.web.helpers import Browser

USD = 10**9


async def user_id_of(browser: Browser) -> int:
    signed_in = await browser.services.accounts.resolve(browser.session_cookie())
    assert signed_in is not None
    return signed_in.user_id


async def customer(browser: Browser, email: str, *, credits_usd: int = 20) -> int:
    await browser.sign_up(email)
    user_id = await user_id_of(browser)
    if credits_usd:
        await billing.top_up(
            browser.services.sessions,
            user_id=user_id,
            amount_nanos=credits_usd * USD,
            idempotency_key=f"test-credit-{user_id}",
            type="bonus",
            description="Test credits",
        )
    return user_id


async def new_key(browser: Browser, user_id: int, name: str) -> tuple[int, str]:
    view, token = await create_key(browser.services.sessions, user_id=user_id, name=name)
    return view.id, token


async def chat(
    browser: Browser, token: str, model: str = "deepseek", text: str = "Hello there"
) -> dict[str, Any]:
    response = await browser.client.post(
        "/api/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": text}], "max_tokens": 16},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def other_visitor(first: Browser) -> httpx.AsyncClient:
    """Another visitor (own cookies) of the same running app, at the same base URL."""
    transport = httpx.ASGITransport(app=first.app, client=("198.51.100.9", 50124))
    return httpx.AsyncClient(transport=transport, base_url=str(first.client.base_url), follow_redirects=False)
