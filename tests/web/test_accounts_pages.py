"""Sign-up, sign-in, sign-out and their error paths, through the real application."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modelsnest.auth.users import create_user, set_user_status
from tests.conftest import make_settings
from tests.web.helpers import STRONG_PASSWORD, Browser, browser_for, csrf_of, second_browser


async def test_sign_up_signs_in_and_lands_on_the_api_store(browser: Browser) -> None:
    response = await browser.sign_up("ann@example.com", name="Ann Lee")
    assert response.headers["location"] == "/dashboard"
    assert browser.session_cookie()
    store = await browser.get("/dashboard")
    assert store.status_code == 200 and "<h1>API Store</h1>" in store.text
    assert "Ann Lee" in store.text
    assert "Welcome to Modelsnest" in store.text  # the flash toast
    user = await browser.services.accounts.resolve(browser.session_cookie())
    assert user is not None and user.user.email == "ann@example.com" and user.user.display_name == "Ann Lee"


async def test_session_cookie_is_http_only_lax_and_only_its_hash_is_stored(browser: Browser) -> None:
    response = await browser.sign_up("cookie@example.com")
    header = next(v for v in response.headers.get_list("set-cookie") if v.startswith("ms_session="))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Secure" not in header  # plain http, no https public URL
    token = browser.session_cookie()
    assert token
    from sqlalchemy import select

    from modelsnest.crypto import token_hash
    from modelsnest.db.models import Session

    async with browser.services.sessions() as session:
        stored = list(await session.scalars(select(Session.token_hash)))
    assert stored == [token_hash(token)]


async def test_cookie_is_secure_when_the_public_url_is_https(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, public_url="https://modelsnest.example")
    # Behind a TLS-terminating proxy the app sees http; the public URL alone makes it Secure.
    async with browser_for(settings, base_url="https://modelsnest.example") as browser:
        response = await browser.sign_up("secure@example.com")
        header = next(v for v in response.headers.get_list("set-cookie") if v.startswith("ms_session="))
        assert "Secure" in header


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"email": "not-an-address", "password": STRONG_PASSWORD, "accept_terms": "on"},
            "email",
            "Not a valid e-mail address",
        ),
        (
            {"email": "weak@example.com", "password": "password1", "accept_terms": "on"},
            "password",
            "too easy to guess",
        ),
        (
            {"email": "short@example.com", "password": "abc", "accept_terms": "on"},
            "password",
            "at least 8 characters",
        ),
        ({"email": "terms@example.com", "password": STRONG_PASSWORD}, "accept_terms", "Accept the terms"),
    ],
)
async def test_sign_up_errors_are_shown_next_to_their_field(
    browser: Browser, data: dict[str, str], field: str, message: str
) -> None:
    response = await browser.submit("/signup", data=data)
    assert response.status_code == 400
    assert f'id="f-{field}-error"' in response.text
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert STRONG_PASSWORD not in response.text  # a password is never sent back
    assert browser.session_cookie() is None


async def test_sign_up_with_an_existing_address_is_refused_whatever_its_capitals(browser: Browser) -> None:
    await browser.sign_up("dup@example.com")
    other = await second_browser(browser)
    async with other:
        page = await other.get("/signup")
        response = await other.post(
            "/signup",
            data={
                "csrf_token": csrf_of(page.text),
                "email": "DUP@Example.com",
                "password": STRONG_PASSWORD,
                "accept_terms": "on",
            },
        )
    assert response.status_code == 409
    assert "already exists" in response.text


async def test_wrong_password_and_unknown_email_get_the_same_answer(browser: Browser) -> None:
    await create_user(browser.services.sessions, email="known@example.com", password=STRONG_PASSWORD)
    wrong = await browser.sign_in("known@example.com", "not-the-password-at-all")
    unknown = await browser.sign_in("nobody@example.com", STRONG_PASSWORD)
    assert wrong.status_code == unknown.status_code == 400
    for response in (wrong, unknown):
        assert "Wrong e-mail address or password." in response.text
    assert browser.session_cookie() is None


async def test_sign_in_goes_back_to_the_page_asked_for(browser: Browser) -> None:
    await create_user(browser.services.sessions, email="back@example.com", password=STRONG_PASSWORD)
    anonymous = await browser.get("/dashboard/settings/sessions?x=1")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fdashboard%2Fsettings%2Fsessions%3Fx%3D1"
    login_page = await browser.get(anonymous.headers["location"])
    assert 'name="next" value="/dashboard/settings/sessions?x=1"' in login_page.text
    response = await browser.post(
        "/login",
        {
            "csrf_token": csrf_of(login_page.text),
            "email": "back@example.com",
            "password": STRONG_PASSWORD,
            "next": "/dashboard/settings/sessions?x=1",
        },
    )
    assert response.headers["location"] == "/dashboard/settings/sessions?x=1"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x=1",
        "http:/evil.example",
        " //evil.example",
    ],
)
async def test_next_never_leaves_the_site(browser: Browser, target: str) -> None:
    await create_user(browser.services.sessions, email="stay@example.com", password=STRONG_PASSWORD)
    response = await browser.sign_in("stay@example.com", next=target)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    assert "evil" not in location


async def test_signed_in_visitor_on_login_goes_to_the_dashboard(browser: Browser) -> None:
    await browser.sign_up("already@example.com")
    response = await browser.get("/login?next=https://evil.example")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"


async def test_sign_out_ends_the_session_on_the_server(browser: Browser) -> None:
    await browser.sign_up("leave@example.com")
    token = browser.session_cookie()
    page = await browser.get("/dashboard/keys")
    response = await browser.post("/logout", {"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert await browser.services.accounts.resolve(token) is None
    # Replaying the old cookie by hand does not sign in either.
    browser.client.cookies.set("ms_session", token or "")
    replay = await browser.get("/dashboard/keys")
    assert replay.status_code == 303


async def test_a_disabled_users_session_stops_at_once(browser: Browser) -> None:
    await browser.sign_up("gone@example.com")
    assert (await browser.get("/dashboard/keys")).status_code == 200
    user = await browser.services.accounts.resolve(browser.session_cookie())
    assert user is not None
    await set_user_status(browser.services.sessions, user.user_id, "disabled")
    response = await browser.get("/dashboard/keys")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    # And the disabled account cannot sign in again.
    again = await browser.sign_in("gone@example.com")
    assert again.status_code == 400


async def test_sign_in_rotates_the_session_id(browser: Browser) -> None:
    await browser.sign_up("rotate@example.com")
    first = browser.session_cookie()
    page = await browser.get("/dashboard/keys")
    response = await browser.post(
        "/login",
        {"csrf_token": csrf_of(page.text), "email": "rotate@example.com", "password": STRONG_PASSWORD},
    )
    assert response.status_code == 303
    second = browser.session_cookie()
    assert second and second != first
    assert await browser.services.accounts.resolve(first) is None
    assert await browser.services.accounts.resolve(second) is not None


async def test_forms_without_or_with_a_wrong_csrf_token_are_refused(browser: Browser) -> None:
    await create_user(browser.services.sessions, email="csrf@example.com", password=STRONG_PASSWORD)
    await browser.get("/login")  # gets the anonymous cookie
    missing = await browser.post("/login", {"email": "csrf@example.com", "password": STRONG_PASSWORD})
    forged = await browser.post(
        "/login", {"csrf_token": "forged", "email": "csrf@example.com", "password": STRONG_PASSWORD}
    )
    for response in (missing, forged):
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "This form has expired" in response.text
    assert browser.session_cookie() is None


async def test_a_csrf_token_from_another_visitor_does_not_work(browser: Browser) -> None:
    await create_user(browser.services.sessions, email="mixup@example.com", password=STRONG_PASSWORD)
    attacker = await second_browser(browser)
    async with attacker:
        token = csrf_of((await attacker.get("/login")).text)
    await browser.get("/login")
    response = await browser.post(
        "/login", {"csrf_token": token, "email": "mixup@example.com", "password": STRONG_PASSWORD}
    )
    assert response.status_code == 403


async def test_signed_in_forms_need_the_sessions_own_token(browser: Browser) -> None:
    await browser.sign_up("owner@example.com")
    page = await browser.get("/dashboard/settings")
    assert (await browser.post("/dashboard/settings/profile", {"name": "X"})).status_code == 403
    assert (
        await browser.post("/dashboard/settings/profile", {"name": "X", "csrf_token": "nope"})
    ).status_code == 403
    ok = await browser.post("/dashboard/settings/profile", {"name": "X", "csrf_token": csrf_of(page.text)})
    assert ok.status_code == 303
    # htmx sends it as a header instead of a field.
    header = await browser.post(
        "/dashboard/settings/profile", {"name": "Y"}, headers={"X-CSRF-Token": csrf_of(page.text)}
    )
    assert header.status_code == 303


async def test_login_is_throttled_per_account_with_a_429_page(browser: Browser) -> None:
    await create_user(browser.services.sessions, email="target@example.com", password=STRONG_PASSWORD)
    statuses = []
    for _ in range(15):
        statuses.append((await browser.sign_in("target@example.com", "wrong-password-guess")).status_code)
        if statuses[-1] == 429:
            break
    # Ten attempts a minute per account are allowed; the limiter's sliding window may allow an
    # attempt or two more when the run straddles a minute boundary, never fewer.
    assert statuses[:10] == [400] * 10
    assert statuses[-1] == 429
    throttled = await browser.sign_in("target@example.com", STRONG_PASSWORD)  # even the right one, for now
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    assert "Too many sign-in attempts" in throttled.text
    assert browser.session_cookie() is None


async def test_logout_page_without_javascript_offers_the_button(browser: Browser) -> None:
    await browser.sign_up("button@example.com")
    page = await browser.get("/logout")
    assert page.status_code == 200 and 'action="/logout"' in page.text


async def test_signup_page_offers_the_fixed_field_names(browser: Browser) -> None:
    page = (await browser.get("/signup")).text
    for name in ("email", "password", "name", "accept_terms", "csrf_token"):
        assert re.search(rf'name="{name}"', page), name
    for field in ("email", "password", "name", "accept_terms"):
        assert f'<label class="label" for="f-{field}"' in page
