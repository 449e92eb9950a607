"""``/dashboard/settings``: profile, password, sessions, account deletion."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from modelsnest import billing
from modelsnest.auth.api_keys import create_key, list_keys
from modelsnest.auth.users import get_user, grant_credits
from modelsnest.db.models import Session, User
from modelsnest.errors import AuthError
from tests.web.helpers import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, Browser, csrf_of, second_browser


async def _me(browser: Browser) -> int:
    signed_in = await browser.services.accounts.resolve(browser.session_cookie())
    assert signed_in is not None
    return signed_in.user_id


async def test_every_settings_page_needs_a_signed_in_user(browser: Browser) -> None:
    for path in (
        "/dashboard/settings",
        "/dashboard/settings/security",
        "/dashboard/settings/sessions",
        "/dashboard/settings/two-factor",
        "/dashboard/settings/delete",
    ):
        response = await browser.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login?next=%2Fdashboard%2Fsettings"
        ), path


async def test_profile_shows_the_user_id_to_copy_and_saves_the_name(browser: Browser) -> None:
    await browser.sign_up("profile@example.com")
    user_id = await _me(browser)
    page = await browser.get("/dashboard/settings")
    assert page.status_code == 200
    assert f'data-copy="{user_id}"' in page.text
    assert "Not verified" in page.text
    saved = await browser.post(
        "/dashboard/settings/profile", {"csrf_token": csrf_of(page.text), "name": "  Grace   Hopper "}
    )
    assert saved.status_code == 303
    assert (await get_user(browser.services.sessions, user_id)).display_name == "Grace Hopper"  # type: ignore[union-attr]
    too_long = await browser.post(
        "/dashboard/settings/profile", {"csrf_token": csrf_of(page.text), "name": "x" * 121}
    )
    assert too_long.status_code == 400 and "at most 120 characters" in too_long.text


async def test_change_password_needs_the_old_one_and_signs_out_other_sessions(browser: Browser) -> None:
    await browser.sign_up("change@example.com")
    other = await second_browser(browser)
    async with other:
        page = await other.get("/login")
        await other.post(
            "/login",
            data={
                "csrf_token": csrf_of(page.text),
                "email": "change@example.com",
                "password": STRONG_PASSWORD,
            },
        )
        other_session = other.cookies.get("ms_session")
    current = browser.session_cookie()
    page = await browser.get("/dashboard/settings/security")
    wrong = await browser.post(
        "/dashboard/settings/password",
        {"csrf_token": csrf_of(page.text), "current_password": "nope", "new_password": OTHER_STRONG_PASSWORD},
    )
    assert wrong.status_code == 400 and 'id="f-current_password-error"' in wrong.text
    weak = await browser.post(
        "/dashboard/settings/password",
        {"csrf_token": csrf_of(page.text), "current_password": STRONG_PASSWORD, "new_password": "qwerty123"},
    )
    assert weak.status_code == 400 and 'id="f-new_password-error"' in weak.text
    ok = await browser.post(
        "/dashboard/settings/password",
        {
            "csrf_token": csrf_of(page.text),
            "current_password": STRONG_PASSWORD,
            "new_password": OTHER_STRONG_PASSWORD,
        },
    )
    assert ok.status_code == 303
    assert browser.session_cookie() not in (None, current)  # rotated
    assert await browser.services.accounts.resolve(current) is None
    assert await browser.services.accounts.resolve(other_session) is None
    assert (await browser.get("/dashboard/settings/security")).status_code == 200


async def test_sessions_list_revokes_others_but_not_the_current_one(browser: Browser) -> None:
    await browser.sign_up("devices@example.com")
    other = await second_browser(browser)
    async with other:
        page = await other.get("/login")
        await other.post(
            "/login",
            data={
                "csrf_token": csrf_of(page.text),
                "email": "devices@example.com",
                "password": STRONG_PASSWORD,
            },
            headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/130.0"},
        )
        other_token = other.cookies.get("ms_session")
    page = await browser.get("/dashboard/settings/sessions")
    assert "Firefox on Windows" in page.text and "This device" in page.text
    mine = await browser.services.accounts.resolve(browser.session_cookie())
    theirs = await browser.services.accounts.resolve(other_token)
    assert mine is not None and theirs is not None
    assert f"/dashboard/settings/sessions/{mine.session_id}/revoke" not in page.text
    refused = await browser.post(
        f"/dashboard/settings/sessions/{mine.session_id}/revoke", {"csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 400
    revoked = await browser.post(
        f"/dashboard/settings/sessions/{theirs.session_id}/revoke",
        {"csrf_token": csrf_of(page.text)},
        headers={"HX-Request": "true"},
    )
    assert revoked.status_code == 200 and revoked.text == ""
    assert "Session ended" in revoked.headers["HX-Trigger"]
    assert await browser.services.accounts.resolve(other_token) is None
    assert await browser.services.accounts.resolve(browser.session_cookie()) is not None


async def test_another_users_session_id_is_a_404(browser: Browser) -> None:
    await browser.sign_up("one@example.com")
    other = await second_browser(browser)
    async with other:
        page = await other.get("/signup")
        await other.post(
            "/signup",
            data={
                "csrf_token": csrf_of(page.text),
                "email": "two@example.com",
                "password": STRONG_PASSWORD,
                "accept_terms": "on",
            },
        )
        their = await browser.services.accounts.resolve(other.cookies.get("ms_session"))
    assert their is not None
    page = await browser.get("/dashboard/settings/sessions")
    response = await browser.post(
        f"/dashboard/settings/sessions/{their.session_id}/revoke", {"csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 404
    assert await browser.services.accounts.resolve(other.cookies.get("ms_session")) is not None  # untouched


async def test_deleting_the_account_anonymises_the_person_and_keeps_the_books(browser: Browser) -> None:
    await browser.sign_up("leaving@example.com", name="Leaving Person")
    user_id = await _me(browser)
    sessions = browser.services.sessions
    await grant_credits(
        sessions, user_id=user_id, amount_nanos=5_000_000_000, actor="test", idempotency_key="t:grant"
    )
    _, token = await create_key(sessions, user_id=user_id, name="prod")
    page = await browser.get("/dashboard/settings")
    wrong = await browser.post(
        "/dashboard/settings/delete", {"csrf_token": csrf_of(page.text), "password": "wrong"}
    )
    assert wrong.status_code == 400
    gone = await browser.post(
        "/dashboard/settings/delete", {"csrf_token": csrf_of(page.text), "password": STRONG_PASSWORD}
    )
    assert gone.status_code == 303 and gone.headers["location"] == "/login"

    user = await get_user(sessions, user_id)
    assert user is not None
    assert user.email == f"deleted-user-{user_id}@deleted.invalid"
    assert user.display_name is None and not user.has_password and user.status == "disabled"
    assert all(key.status == "revoked" for key in await list_keys(sessions, user_id))
    async with sessions() as session:
        assert (
            await session.scalar(select(func.count()).select_from(Session).where(Session.user_id == user_id))
            == 0
        )
        assert await session.scalar(select(User.email_fingerprint).where(User.id == user_id))  # kept
    assert (await billing.get_balance(sessions, user_id)).balance_nanos == 5_000_000_000  # the ledger stays
    assert len(await billing.list_transactions(sessions, user_id)) == 1
    with pytest.raises(AuthError):
        await browser.services.keys.verify(f"Bearer {token}")
    assert (await browser.sign_in("leaving@example.com")).status_code == 400
    # The address is free for a new account.
    assert (await browser.sign_up("leaving@example.com")).status_code == 303
