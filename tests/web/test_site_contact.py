"""The contact form: a message is stored and mailed to the operator (through a real SMTP
server) with the sender as Reply-To; CSRF is required, senders are throttled per IP, bad
input is shown next to its field, and the honeypot turns bots away without telling them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from modelsnest.db.models.contact import ContactMessage
from tests.conftest import make_settings
from tests.smtp import SmtpServer, text_of
from tests.web.helpers import Browser, browser_for, csrf_of, second_browser

OPERATOR = "inbox@operator.example"
MESSAGE = {
    "name": "Grace Hopper",
    "email": "grace@example.com",
    "topic": "sales",
    "message": "We expect 40M tokens a month on two models. What can you offer?",
}


@pytest.fixture
async def desk(sqlite_url: str, tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[Browser]:
    settings = make_settings(
        sqlite_url,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        contact_email=OPERATOR,
    )
    async with browser_for(settings) as browser:
        yield browser


async def _stored(browser: Browser) -> list[ContactMessage]:
    async with browser.services.sessions() as session:
        return list((await session.scalars(select(ContactMessage).order_by(ContactMessage.id))).all())


async def test_a_message_is_stored_mailed_and_confirmed(desk: Browser, smtp: SmtpServer) -> None:
    page = await desk.get("/contact")
    assert page.status_code == 200 and 'name="website"' in page.text
    for name in ("name", "email", "topic", "message"):
        assert f'for="f-{name}"' in page.text  # every field has its label
    response = await desk.submit("/contact", data=MESSAGE)
    assert response.status_code == 200
    assert "Thank you, Grace Hopper" in response.text and "grace@example.com" in response.text
    [stored] = await _stored(desk)
    assert (stored.name, stored.email, stored.topic) == ("Grace Hopper", "grace@example.com", "sales")
    assert stored.message == MESSAGE["message"] and stored.user_id is None
    assert f"contact message #{stored.id}" in response.text
    [mail] = await smtp.inbox.wait_for(OPERATOR)
    assert mail["Reply-To"] == "grace@example.com"
    assert "Volume, enterprise or custom models" in mail["Subject"] and "Grace Hopper" in mail["Subject"]
    body = text_of(mail)
    assert MESSAGE["message"] in body and f"#{stored.id}" in body


async def test_a_signed_in_sender_is_linked_to_their_account(desk: Browser, smtp: SmtpServer) -> None:
    await desk.sign_up("member@example.com", name="Member One")
    page = await desk.get("/contact")
    assert 'value="member@example.com"' in page.text and 'value="Member One"' in page.text
    await desk.submit("/contact", data={**MESSAGE, "email": "member@example.com"})
    [stored] = await _stored(desk)
    assert stored.user_id is not None
    [mail] = await smtp.inbox.wait_for(OPERATOR)
    assert "Account: member@example.com" in text_of(mail)


async def test_without_the_csrf_token_nothing_is_accepted(desk: Browser) -> None:
    await desk.get("/contact")
    response = await desk.post("/contact", MESSAGE)
    assert response.status_code == 403 and "This form has expired" in response.text
    assert await _stored(desk) == []


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "  ", "Enter your name"),
        ("email", "not-an-address", "Enter an e-mail address we can reply to"),
        ("topic", "lottery", "Choose what your message is about"),
        ("message", "hi", "Write a little more"),
        ("message", "x" * 5001, "At most 5,000 characters"),
    ],
)
async def test_bad_input_is_shown_next_to_its_field(
    desk: Browser, field: str, value: str, error: str
) -> None:
    response = await desk.submit("/contact", data={**MESSAGE, field: value})
    assert response.status_code == 400
    assert f'id="f-{field}-error"' in response.text and error.lower() in response.text.lower()
    if field != "message":
        assert MESSAGE["message"] in response.text  # what was typed is kept
    assert await _stored(desk) == []


async def test_the_honeypot_thanks_a_bot_and_keeps_nothing(desk: Browser, smtp: SmtpServer) -> None:
    response = await desk.submit("/contact", data={**MESSAGE, "website": "https://spam.example"})
    assert (
        response.status_code == 200
        and "Thank you" in response.text
        and "contact message #" not in response.text
    )
    assert await _stored(desk) == []
    await desk.services.mailer.drain()
    assert smtp.inbox.to(OPERATOR) == []


async def test_senders_are_throttled_per_ip(desk: Browser) -> None:
    for i in range(3):
        response = await desk.submit("/contact", data={**MESSAGE, "email": f"sender{i}@example.com"})
        assert response.status_code == 200
    throttled = await desk.submit("/contact", data={**MESSAGE, "email": "sender9@example.com"})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert "several messages just now" in throttled.text
    # Another visitor, from another address, is not affected.
    async with await second_browser(desk) as other:
        page = await other.get("/contact")
        accepted = await other.post("/contact", data={"csrf_token": csrf_of(page.text), **MESSAGE})
        assert accepted.status_code == 200
    async with desk.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ContactMessage)) == 4
