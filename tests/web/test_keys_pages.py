"""``/dashboard/keys``: create (shown once), list, revoke; never another user's key."""

from __future__ import annotations

import re
from pathlib import Path

from modelsnest.auth.api_keys import create_key, list_keys
from modelsnest.auth.users import create_user
from modelsnest.catalog.seed import seed_catalog
from modelsnest.crypto import SecretBox
from modelsnest.errors import AuthError
from tests.conftest import make_settings
from tests.web.helpers import STRONG_PASSWORD, Browser, browser_for, csrf_of


async def _user_id(browser: Browser) -> int:
    signed_in = await browser.services.accounts.resolve(browser.session_cookie())
    assert signed_in is not None
    return signed_in.user_id


async def test_empty_state_then_a_new_key_is_shown_once_and_works(browser: Browser) -> None:
    await browser.sign_up("keys@example.com")
    page = await browser.get("/dashboard/keys")
    assert "No API keys yet" in page.text
    created = await browser.post(
        "/dashboard/keys",
        {
            "csrf_token": csrf_of(page.text),
            "name": "production backend",
            "expires_in_days": "30",
            "spend_limit_usd": "12.50",
            "rpm_limit": "60",
        },
    )
    assert created.status_code == 200
    token = re.search(r'<output id="new-key"[^>]*>(ptr_[A-Za-z0-9_-]+)</output>', created.text)
    assert token is not None
    principal = await browser.services.keys.verify(f"Bearer {token.group(1)}")
    assert principal.name == "production backend" and principal.rpm_limit == 60
    assert principal.spend_limit_nanos == 12_500_000_000 and principal.expires_at is not None
    listed = await browser.get("/dashboard/keys")
    assert token.group(1) not in listed.text  # never again
    assert token.group(1)[:12] in listed.text  # the prefix, in the list
    assert "of $12.50" in listed.text and "60 req/min" in listed.text


async def test_key_form_errors_name_their_field(browser: Browser) -> None:
    await browser.sign_up("badkey@example.com")
    page = await browser.get("/dashboard/keys")
    for data, field in (
        ({"spend_limit_usd": "ten"}, "spend_limit_usd"),
        ({"spend_limit_usd": "0"}, "spend_limit_usd"),
        ({"spend_limit_usd": "0.0000000001"}, "spend_limit_usd"),
        ({"rpm_limit": "-3"}, "rpm_limit"),
        ({"expires_in_days": "9999"}, "expires_in_days"),
        ({"allowed_models": "no-such-model"}, "allowed_models"),
        ({"name": "x" * 101}, "name"),
    ):
        response = await browser.post("/dashboard/keys", {"csrf_token": csrf_of(page.text), **data})
        assert response.status_code == 400, data
        assert f'id="f-{field}-error"' in response.text, data
        assert 'id="new-key"' not in response.text
    assert await list_keys(browser.services.sessions, await _user_id(browser)) == []


async def test_allowed_models_come_from_the_catalog(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path)
    async with browser_for(settings) as browser:
        await seed_catalog(
            browser.services.sessions,
            secret_box=SecretBox(settings.resolved_secret_key()),
            simulator_enabled=True,
            provider_keys={},
        )
        browser.services.gateway.catalog.invalidate()
        await browser.sign_up("models@example.com")
        page = await browser.get("/dashboard/keys")
        slugs = re.findall(r'name="allowed_models" value="([^"]+)"', page.text)
        assert len(slugs) >= 50 and "deepseek" in slugs
        created = await browser.post(
            "/dashboard/keys",
            {"csrf_token": csrf_of(page.text), "name": "two", "allowed_models": [slugs[0], slugs[1]]},
        )
        assert created.status_code == 200
        [key] = await list_keys(browser.services.sessions, await _user_id(browser))
        assert key.allowed_models == [slugs[0], slugs[1]]


async def test_revoke_with_htmx_swaps_the_row_and_the_key_stops_working(browser: Browser) -> None:
    await browser.sign_up("revoke@example.com")
    view, token = await create_key(browser.services.sessions, user_id=await _user_id(browser), name="old")
    page = await browser.get("/dashboard/keys")
    assert f'id="revoke-{view.id}"' in page.text  # the confirmation dialog
    response = await browser.post(
        f"/dashboard/keys/{view.id}/revoke",
        {"csrf_token": csrf_of(page.text)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="key-{view.id}"')
    assert "Revoked" in response.text and "<html" not in response.text
    assert "revoked" in response.headers["HX-Trigger"]
    try:
        await browser.services.keys.verify(f"Bearer {token}")
    except AuthError:
        pass
    else:
        raise AssertionError("a revoked key must stop working")


async def test_revoke_without_javascript_has_a_confirmation_page(browser: Browser) -> None:
    await browser.sign_up("nojs@example.com")
    view, _ = await create_key(browser.services.sessions, user_id=await _user_id(browser), name="plain")
    confirm = await browser.get(f"/dashboard/keys/{view.id}/revoke")
    assert confirm.status_code == 200 and "Revoke “plain”?" in confirm.text
    response = await browser.post(f"/dashboard/keys/{view.id}/revoke", {"csrf_token": csrf_of(confirm.text)})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/keys"
    after = await browser.get("/dashboard/keys")
    assert "Key “plain” revoked." in after.text  # the toast


async def test_another_users_key_is_a_404_and_stays_active(browser: Browser) -> None:
    owner = await create_user(browser.services.sessions, email="owner@example.com", password=STRONG_PASSWORD)
    theirs, token = await create_key(browser.services.sessions, user_id=owner.id, name="theirs")
    await browser.sign_up("intruder@example.com")
    page = await browser.get("/dashboard/keys")
    assert "theirs" not in page.text
    assert (await browser.get(f"/dashboard/keys/{theirs.id}/revoke")).status_code == 404
    attempt = await browser.post(f"/dashboard/keys/{theirs.id}/revoke", {"csrf_token": csrf_of(page.text)})
    assert attempt.status_code == 404 and "API key not found" in attempt.text
    missing = await browser.post("/dashboard/keys/999999/revoke", {"csrf_token": csrf_of(page.text)})
    assert missing.status_code == 404 and missing.text.count("API key not found") == attempt.text.count(
        "API key not found"
    )
    assert (await browser.services.keys.verify(f"Bearer {token}")).key_id == theirs.id
    assert (await browser.get("/dashboard/keys/not-a-number/revoke")).status_code == 404


async def test_keys_sort_and_paginate(browser: Browser) -> None:
    await browser.sign_up("many@example.com")
    user_id = await _user_id(browser)
    for n in range(23):
        await create_key(browser.services.sessions, user_id=user_id, name=f"key-{n:02d}")
    first = await browser.get("/dashboard/keys?sort=name&dir=asc")
    names = re.findall(r'<div class="cell-title">(key-\d\d)</div>', first.text)
    assert names == [f"key-{n:02d}" for n in range(20)]
    assert 'aria-sort="ascending"' in first.text and "page 1 of 2" in first.text
    second = await browser.get("/dashboard/keys?sort=name&dir=asc&page=2")
    assert re.findall(r'<div class="cell-title">(key-\d\d)</div>', second.text) == [
        "key-20",
        "key-21",
        "key-22",
    ]
    odd = await browser.get("/dashboard/keys?sort=drop+table&page=-4")
    assert odd.status_code == 200
