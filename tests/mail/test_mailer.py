"""Mail over SMTP to a real local server, or into the outbox folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsnest.mail import Mailer, OutboxTransport, SmtpTransport
from modelsnest.mail.message import compose
from tests.smtp import SmtpServer, html_of, text_of

CONTEXT = {
    "email": "ann@example.com",
    "url": "http://x.test/verify-email?token=abc&n=1",
    "valid_for": "2 days",
    "site_url": "http://x.test",
}


async def test_smtp_delivers_a_text_and_an_html_body() -> None:
    with SmtpServer() as server:
        mailer = Mailer(SmtpTransport("127.0.0.1", server.port), "Modelsnest <no-reply@x.test>")
        assert await mailer.send("verify_email", to="ann@example.com", **CONTEXT)
        [mail] = server.inbox.messages
    assert mail["To"] == "ann@example.com" and mail["Subject"] == "Confirm your e-mail address for Modelsnest"
    assert mail["Message-ID"].endswith("@x.test>")
    assert "http://x.test/verify-email?token=abc&n=1" in text_of(mail)
    assert 'href="http://x.test/verify-email?token=abc&amp;n=1"' in html_of(mail)  # escaped in HTML


async def test_an_unreachable_server_is_a_false_result_not_an_error(tmp_path: Path) -> None:
    from tests.live import free_port

    mailer = Mailer(SmtpTransport("127.0.0.1", free_port(), timeout=2), "no-reply@x.test")
    assert await mailer.send("verify_email", to="ann@example.com", **CONTEXT) is False


async def test_the_outbox_keeps_each_message_as_an_eml_file(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path / "outbox")
    mailer = Mailer(outbox, "no-reply@x.test")
    await mailer.send("reset_password", to="ann@example.com", **CONTEXT)
    mailer.send(
        "password_changed",
        to="ann@example.com",
        email="ann@example.com",
        reset_url="http://x.test/forgot-password",
        site_url="http://x.test",
    )
    await mailer.drain()
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2 and not list((tmp_path / "outbox").glob("*.tmp"))
    entries = outbox.entries()
    assert [e.subject for e in entries] == [
        "Your Modelsnest password was changed",
        "Reset your Modelsnest password",
    ]
    assert entries[1].html is not None and "Choose a new password" in entries[1].html
    assert outbox.entry(entries[0].name) == entries[0]
    assert outbox.entry("../../etc/passwd") is None


def test_a_mail_with_a_relative_link_is_never_composed() -> None:
    """A link in a mail is opened in a mail client, away from the site: it must be absolute."""
    for bad in ({"url": "/verify-email?token=abc"}, {"site_url": ""}, {"site_url": "x.test"}):
        with pytest.raises(ValueError, match="absolute URL"):
            compose(
                "verify_email", to="ann@example.com", sender="no-reply@x.test", context={**CONTEXT, **bad}
            )
    note = {
        "title": "Your balance is low",
        "body": "",
        "url": None,  # no link at all is fine
        "preferences_url": "https://x.test/dashboard/notifications#preferences",
        "site_url": "https://x.test",
    }
    message = compose("notification", to="ann@example.com", sender="no-reply@x.test", context=note)
    assert "https://x.test/dashboard/notifications#preferences" in message.as_string()
