"""The Accounts service: sign-up bonus (once, no near-duplicates), throttling shared across
replicas through Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsnest import billing
from modelsnest.settings import Settings
from tests.conftest import make_settings
from tests.web.helpers import STRONG_PASSWORD, Browser, browser_for, csrf_of, second_browser


def _bonus_settings(database_url: str, tmp_path: Path, **extra: object) -> Settings:
    return make_settings(database_url, tmp_path, signup_bonus_usd="2.50", **extra)


async def _balance(browser: Browser) -> int:
    signed_in = await browser.services.accounts.resolve(browser.session_cookie())
    assert signed_in is not None
    return (await billing.get_balance(browser.services.sessions, signed_in.user_id)).balance_nanos


async def test_the_sign_up_bonus_is_granted_once_with_an_idempotency_key(
    database_url: str, tmp_path: Path
) -> None:
    async with browser_for(_bonus_settings(database_url, tmp_path)) as browser:
        await browser.sign_up("bonus@example.com")
        assert await _balance(browser) == 2_500_000_000
        signed_in = await browser.services.accounts.resolve(browser.session_cookie())
        assert signed_in is not None
        [row] = await billing.list_transactions(browser.services.sessions, signed_in.user_id)
        assert row.type == "bonus" and row.reference_id == f"grant:signup-bonus:user:{signed_in.user_id}"
        # Granting again (a retry) changes nothing.
        await browser.services.accounts._grant_bonus(signed_in.user_id)
        assert await _balance(browser) == 2_500_000_000


@pytest.mark.parametrize("variant", ["farmer+2@example.com", "FARMER@example.com"])
async def test_with_a_bonus_near_duplicate_addresses_are_refused(
    sqlite_url: str, tmp_path: Path, variant: str
) -> None:
    async with browser_for(_bonus_settings(sqlite_url, tmp_path)) as browser:
        await browser.sign_up("farmer@example.com")
        other = await second_browser(browser)
        async with other:
            page = await other.get("/signup")
            response = await other.post(
                "/signup",
                data={
                    "csrf_token": csrf_of(page.text),
                    "email": variant,
                    "password": STRONG_PASSWORD,
                    "accept_terms": "on",
                },
            )
        assert response.status_code in (400, 409)
        assert "already exists" in response.text


async def test_gmail_dots_are_one_inbox_when_a_bonus_is_on(sqlite_url: str, tmp_path: Path) -> None:
    async with browser_for(_bonus_settings(sqlite_url, tmp_path)) as browser:
        await browser.sign_up("jane.doe@gmail.com")
        other = await second_browser(browser)
        async with other:
            page = await other.get("/signup")
            response = await other.post(
                "/signup",
                data={
                    "csrf_token": csrf_of(page.text),
                    "email": "janedoe+x@googlemail.com",
                    "password": STRONG_PASSWORD,
                    "accept_terms": "on",
                },
            )
        assert response.status_code == 400 and "+tag" in response.text


async def test_without_a_bonus_plus_addresses_are_separate_accounts(sqlite_url: str, tmp_path: Path) -> None:
    async with browser_for(make_settings(sqlite_url, tmp_path)) as browser:
        await browser.sign_up("team@example.com")
        other = await second_browser(browser)
        async with other:
            page = await other.get("/signup")
            response = await other.post(
                "/signup",
                data={
                    "csrf_token": csrf_of(page.text),
                    "email": "team+ci@example.com",
                    "password": STRONG_PASSWORD,
                    "accept_terms": "on",
                },
            )
        assert response.status_code == 303


async def test_with_verification_on_the_bonus_waits_for_the_confirmed_address(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with browser_for(_bonus_settings(sqlite_url, tmp_path, email_verification=True)) as browser:
        await browser.sign_up("wait@example.com")
        assert await _balance(browser) == 0
        await browser.services.accounts.drain()
        outbox = await browser.get("/dev/outbox")
        name = outbox.text.split('href="/dev/outbox/')[1].split('"')[0]
        message = await browser.get(f"/dev/outbox/{name}")
        link = message.text.split('href="http://testserver')[1].split('"')[0]
        assert (await browser.get(link.replace("&amp;", "&"))).status_code == 200
        assert await _balance(browser) == 2_500_000_000


@pytest.mark.redis
async def test_login_throttling_holds_across_replicas(
    sqlite_url: str, tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    settings = make_settings(sqlite_url, tmp_path, redis_url=redis_url, redis_key_prefix=redis_prefix)
    async with browser_for(settings) as first, browser_for(settings) as second:
        from modelsnest.auth.users import create_user

        await create_user(first.services.sessions, email="shared@example.com", password=STRONG_PASSWORD)
        statuses = []
        for n in range(15):
            replica = first if n % 2 == 0 else second
            statuses.append((await replica.sign_in("shared@example.com", "wrong-guess-password")).status_code)
            if statuses[-1] == 429:
                break
        # Ten in all, not ten per replica (give or take the sliding window's edge).
        assert statuses[:10] == [400] * 10 and statuses[-1] == 429 and len(statuses) <= 12
