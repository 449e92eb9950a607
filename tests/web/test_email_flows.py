"""E-mail verification and password reset, end to end: the mail goes over SMTP to a real
local server (aiosmtpd) and the test follows the link it received."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from modelsnest.auth.users import create_user
from modelsnest.db.base import utcnow
from modelsnest.db.models import PasswordResetToken
from tests.conftest import make_settings
from tests.smtp import SmtpServer, html_of, link_in, text_of
from tests.web.helpers import (
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    Browser,
    browser_for,
    csrf_of,
    second_browser,
)


@pytest.fixture
async def mailing(sqlite_url: str, tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[Browser]:
    settings = make_settings(
        sqlite_url,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        email_verification=True,
        public_url="http://modelsnest.test",
        mail_from="Modelsnest <no-reply@modelsnest.test>",
    )
    async with browser_for(settings) as browser:
        yield browser


def _path(url: str) -> str:
    parts = urlsplit(url)
    assert parts.netloc == "modelsnest.test", "links in mails use the public URL"
    return f"{parts.path}?{parts.query}"


async def test_sign_up_mails_a_verification_link_that_confirms_the_address(
    mailing: Browser, smtp: SmtpServer
) -> None:
    await mailing.sign_up("verify@example.com")
    keys = await mailing.get("/dashboard/keys")
    assert "Confirm your e-mail address" in keys.text  # the banner
    assert "Confirm your e-mail address first" in keys.text  # and key creation waits for it
    await mailing.services.accounts.drain()
    [mail] = await smtp.inbox.wait_for("verify@example.com")
    assert mail["Subject"] == "Confirm your e-mail address for Modelsnest"
    assert mail["From"] == "Modelsnest <no-reply@modelsnest.test>"
    link = link_in(mail, "/verify-email?token=")
    assert link in html_of(mail)
    confirmed = await mailing.get(_path(link))
    assert confirmed.status_code == 200 and "E-mail address confirmed" in confirmed.text
    keys = await mailing.get("/dashboard/keys")
    assert "Confirm your e-mail address" not in keys.text
    assert 'action="/dashboard/keys"' in keys.text
    # The link worked once.
    again = await mailing.get(_path(link))
    assert again.status_code == 400 and "does not work any more" in again.text


async def test_unverified_user_can_ask_for_the_link_again(mailing: Browser, smtp: SmtpServer) -> None:
    await mailing.sign_up("again@example.com")
    page = await mailing.get("/dashboard/keys")
    response = await mailing.post(
        "/verify-email/resend", {"csrf_token": csrf_of(page.text), "next": "/dashboard/keys"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/keys"
    await mailing.services.accounts.drain()
    mails = await smtp.inbox.wait_for("again@example.com", count=2)
    first, second = (link_in(m, "/verify-email") for m in mails)
    assert first != second
    assert (await mailing.get(_path(second))).status_code == 200


async def test_password_reset_by_mail_sets_the_new_password_once_and_signs_out_everywhere(
    mailing: Browser, smtp: SmtpServer
) -> None:
    await create_user(mailing.services.sessions, email="reset@example.com", password=STRONG_PASSWORD)
    other_device = await second_browser(mailing)
    async with other_device:
        page = await other_device.get("/login")
        await other_device.post(
            "/login",
            data={
                "csrf_token": csrf_of(page.text),
                "email": "reset@example.com",
                "password": STRONG_PASSWORD,
            },
        )
        old_session = other_device.cookies.get("ms_session")
    assert await mailing.services.accounts.resolve(old_session) is not None

    answer = await mailing.submit("/forgot-password", data={"email": "reset@example.com"})
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    await mailing.services.accounts.drain()
    [mail] = await smtp.inbox.wait_for("reset@example.com")
    assert mail["Subject"] == "Reset your Modelsnest password"
    assert "expires in 1 hour" in text_of(mail)
    link = _path(link_in(mail, "/reset-password?token="))

    form = await mailing.get(link)
    assert form.status_code == 200 and 'name="password"' in form.text
    weak = await mailing.post(
        "/reset-password",
        {
            "csrf_token": csrf_of(form.text),
            "token": form.text.split('name="token" value="')[1].split('"')[0],
            "password": "password",
        },
    )
    assert weak.status_code == 400 and "too easy to guess" in weak.text  # the link still works after that
    token = link.split("token=")[1]
    done = await mailing.post(
        "/reset-password",
        {"csrf_token": csrf_of(form.text), "token": token, "password": OTHER_STRONG_PASSWORD},
    )
    assert done.status_code == 303 and done.headers["location"] == "/login"

    assert await mailing.services.accounts.resolve(old_session) is None  # other sessions ended
    assert (await mailing.sign_in("reset@example.com", STRONG_PASSWORD)).status_code == 400
    assert (await mailing.sign_in("reset@example.com", OTHER_STRONG_PASSWORD)).status_code == 303
    await mailing.services.accounts.drain()
    changed = await smtp.inbox.wait_for("reset@example.com", count=2)
    assert changed[1]["Subject"] == "Your Modelsnest password was changed"

    reused = await mailing.get(link)
    assert reused.status_code == 400 and "does not work any more" in reused.text
    replay = await mailing.post(
        "/reset-password",
        {"csrf_token": csrf_of(reused.text), "token": token, "password": "another-fine-passphrase-9"},
    )
    assert replay.status_code == 400 and "does not work any more" in replay.text


async def test_an_expired_reset_link_does_not_work(mailing: Browser, smtp: SmtpServer) -> None:
    await create_user(mailing.services.sessions, email="late@example.com", password=STRONG_PASSWORD)
    await mailing.submit("/forgot-password", data={"email": "late@example.com"})
    await mailing.services.accounts.drain()
    [mail] = await smtp.inbox.wait_for("late@example.com")
    async with mailing.services.sessions() as session, session.begin():
        await session.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    link = _path(link_in(mail, "/reset-password"))
    page = await mailing.get(link)
    assert page.status_code == 400 and "does not work any more" in page.text
    submit = await mailing.post(
        "/reset-password",
        {
            "csrf_token": csrf_of(page.text),
            "token": link.split("token=")[1],
            "password": OTHER_STRONG_PASSWORD,
        },
    )
    assert submit.status_code == 400
    assert (await mailing.sign_in("late@example.com", STRONG_PASSWORD)).status_code == 303


async def test_only_the_latest_reset_link_works(mailing: Browser, smtp: SmtpServer) -> None:
    await create_user(mailing.services.sessions, email="twice@example.com", password=STRONG_PASSWORD)
    for _ in range(2):
        await mailing.submit("/forgot-password", data={"email": "twice@example.com"})
        await mailing.services.accounts.drain()
    first, second = await smtp.inbox.wait_for("twice@example.com", count=2)
    assert (await mailing.get(_path(link_in(first, "/reset-password")))).status_code == 400
    assert (await mailing.get(_path(link_in(second, "/reset-password")))).status_code == 200


async def test_forgot_password_answers_the_same_for_unknown_addresses(
    mailing: Browser, smtp: SmtpServer
) -> None:
    await create_user(mailing.services.sessions, email="exists@example.com", password=STRONG_PASSWORD)
    timings: dict[str, list[float]] = {"exists@example.com": [], "missing@example.com": []}
    pages: dict[str, str] = {}
    # Interleaved, twice each (the limit is 5 a minute per address of origin): the fastest of
    # each pair is compared, so a stall of this shared machine cannot pass for a lookup.
    for email in ("exists@example.com", "missing@example.com", "missing@example.com", "exists@example.com"):
        started = time.perf_counter()
        response = await mailing.submit("/forgot-password", data={"email": email})
        timings[email].append(time.perf_counter() - started)
        pages[email] = response.text.replace(email, "EMAIL")
        assert response.status_code == 200
    # The same page, apart from the token and the address typed.
    strip = lambda html: [line for line in html.splitlines() if "csrf" not in line]  # noqa: E731
    assert strip(pages["exists@example.com"]) == strip(pages["missing@example.com"])
    # The answer comes before the lookup: no database or mail work in either request's time.
    fastest = [min(spent) for spent in timings.values()]
    assert abs(fastest[0] - fastest[1]) < 0.25
    await mailing.services.accounts.drain()
    assert len(smtp.inbox.to("exists@example.com")) == 2
    assert smtp.inbox.to("missing@example.com") == []


async def test_a_failing_smtp_server_never_fails_the_request(
    sqlite_url: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from tests.live import free_port

    closed_port = free_port()  # nothing listens there
    settings = make_settings(
        sqlite_url,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=closed_port,
        email_verification=True,
        smtp_timeout_seconds=2,
    )
    async with browser_for(settings) as browser:
        response = await browser.sign_up("nomail@example.com")
        assert response.status_code == 303
        await browser.services.accounts.drain()
    logged = capfd.readouterr().err
    assert "could not send the verify_email mail" in logged
    assert "nomail@example.com" not in logged  # no personal data in the warning
