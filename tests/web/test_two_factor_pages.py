"""Two-factor sign-in through the pages: enrolment, the code step, replays, recovery codes,
and the operator's requirement for admins."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp

from modelsnest.auth.users import create_user
from tests.conftest import make_settings
from tests.web.helpers import STRONG_PASSWORD, Browser, browser_for, csrf_of


async def _sign_out(browser: Browser) -> None:
    page = await browser.get("/dashboard/keys")
    await browser.post("/logout", {"csrf_token": csrf_of(page.text)})


async def _password_step(browser: Browser, email: str) -> None:
    response = await browser.sign_in(email)
    assert response.status_code == 303 and response.headers["location"] == "/login/two-factor"
    assert browser.session_cookie() is None  # no session before the second factor


async def _code_step(browser: Browser, code: str) -> int:
    page = await browser.get("/login/two-factor")
    assert page.status_code == 200, "the pending sign-in must still be there"
    response = await browser.post("/login/two-factor", {"csrf_token": csrf_of(page.text), "code": code})
    return response.status_code


async def test_enrolment_then_sign_in_needs_a_fresh_code_and_refuses_a_replay(browser: Browser) -> None:
    await browser.sign_up("totp@example.com")
    before = browser.session_cookie()
    secret, codes = await browser.enrol_two_factor()
    assert browser.session_cookie() != before  # enrolling rotates the session id
    security = await browser.get("/dashboard/settings/security")
    assert "Recovery codes left" in security.text and "10 of 10" in security.text

    await _sign_out(browser)
    await _password_step(browser, "totp@example.com")
    assert await _code_step(browser, "000000") == 400
    # The code that confirmed the enrolment was this step's, and is spent. The next step's code
    # is accepted already (one step of clock drift), so the test need not wait 30 seconds.
    code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
    assert await _code_step(browser, code) == 303
    assert browser.session_cookie()

    await _sign_out(browser)
    await _password_step(browser, "totp@example.com")
    assert await _code_step(browser, code) == 400  # the same code, replayed within its window
    page = await browser.get("/login/two-factor")
    response = await browser.post("/login/two-factor", {"csrf_token": csrf_of(page.text), "code": code})
    assert "not right, or it was already used" in response.text


async def test_a_recovery_code_signs_in_once(browser: Browser) -> None:
    await browser.sign_up("recover@example.com")
    _, codes = await browser.enrol_two_factor()
    await _sign_out(browser)
    await _password_step(browser, "recover@example.com")
    assert await _code_step(browser, codes[0].upper().replace("-", " ")) == 303  # typed loosely
    security = await browser.get("/dashboard/settings/security")
    assert "9 of 10" in security.text
    await _sign_out(browser)
    await _password_step(browser, "recover@example.com")
    assert await _code_step(browser, codes[0]) == 400
    assert await _code_step(browser, codes[1]) == 303


async def test_the_code_step_without_a_password_step_sends_back_to_sign_in(browser: Browser) -> None:
    response = await browser.get("/login/two-factor")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = await browser.get("/login")
    forged = await browser.post(
        "/login/two-factor",
        {"csrf_token": csrf_of(page.text), "code": "123456"},
    )
    assert forged.status_code == 303 and forged.headers["location"] == "/login"
    browser.client.cookies.set("ms_login", "forged.value.here")
    assert (await browser.get("/login/two-factor")).status_code == 303


async def test_second_factor_attempts_are_throttled(browser: Browser) -> None:
    await browser.sign_up("guess@example.com")
    await browser.enrol_two_factor()
    await _sign_out(browser)
    await _password_step(browser, "guess@example.com")
    statuses = []
    for n in range(10):
        statuses.append(await _code_step(browser, f"{n:06d}"))
        if statuses[-1] == 429:
            break
    # Five a minute; the sliding window may allow one or two more across a minute boundary.
    assert statuses[:5] == [400] * 5 and statuses[-1] == 429


async def test_turning_two_factor_off_needs_the_password(browser: Browser) -> None:
    await browser.sign_up("off@example.com")
    await browser.enrol_two_factor()
    page = await browser.get("/dashboard/settings/security")
    wrong = await browser.post(
        "/dashboard/settings/two-factor/disable", {"csrf_token": csrf_of(page.text), "password": "not-it"}
    )
    assert wrong.status_code == 400 and "That password is not right." in wrong.text
    ok = await browser.post(
        "/dashboard/settings/two-factor/disable",
        {"csrf_token": csrf_of(page.text), "password": STRONG_PASSWORD},
    )
    assert ok.status_code == 303
    await _sign_out(browser)
    assert (await browser.sign_in("off@example.com")).headers["location"] == "/dashboard"


async def test_new_recovery_codes_replace_the_old_ones(browser: Browser) -> None:
    await browser.sign_up("codes@example.com")
    _, old = await browser.enrol_two_factor()
    page = await browser.get("/dashboard/settings/security")
    response = await browser.post(
        "/dashboard/settings/two-factor/recovery-codes",
        {"csrf_token": csrf_of(page.text), "password": STRONG_PASSWORD},
    )
    assert response.status_code == 200
    new = re.findall(r"<li>([a-z2-9-]{19})</li>", response.text)
    assert len(new) == 10 and not set(new) & set(old)
    await _sign_out(browser)
    await _password_step(browser, "codes@example.com")
    assert await _code_step(browser, old[0]) == 400
    assert await _code_step(browser, new[0]) == 303


async def test_admins_must_enrol_when_the_operator_requires_it(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, admin_require_2fa=True)
    async with browser_for(settings) as browser:
        await create_user(
            browser.services.sessions, email="root@example.com", password=STRONG_PASSWORD, role="admin"
        )
        response = await browser.sign_in("root@example.com")
        assert response.headers["location"] == "/dashboard/settings/two-factor?required=admin"
        setup = await browser.get(response.headers["location"])
        assert "Required for administrators" in setup.text
        await browser.enrol_two_factor()
        await _sign_out(browser)
        response = await browser.sign_in("root@example.com")
        assert response.headers["location"] == "/login/two-factor"
