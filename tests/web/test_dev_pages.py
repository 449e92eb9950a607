from __future__ import annotations

from pathlib import Path

from tests.conftest import make_settings
from tests.web.helpers import Browser, browser_for


async def test_gallery_shows_every_component(browser: Browser) -> None:
    page = await browser.get("/dev/components")
    assert page.status_code == 200
    for marker in (
        'class="btn btn-primary"',
        'class="input',
        'class="select"',
        'type="checkbox"',
        'class="card',
        'class="stat"',
        'class="table',
        "aria-sort=",
        'class="pagination"',
        'class="empty-state"',
        "loading-row",
        'class="badge',
        'class="tabs"',
        "<dialog",
        'class="toast',
        'class="code-block"',
        'class="key-reveal"',
        "data-chart",
    ):
        assert marker in page.text, marker


async def test_outbox_lists_mails_written_instead_of_sent(browser: Browser) -> None:
    await browser.submit(
        "/signup",
        data={"email": "out@example.com", "password": "violet-kettle-orbit-42", "accept_terms": "on"},
    )
    await browser.submit("/forgot-password", data={"email": "out@example.com"})
    await browser.services.accounts.drain()
    outbox = await browser.get("/dev/outbox")
    assert "Reset your Modelsnest password" in outbox.text
    name = outbox.text.split('href="/dev/outbox/')[1].split('"')[0]
    message = await browser.get(f"/dev/outbox/{name}")
    assert (
        message.status_code == 200
        and "/reset-password?token=" in message.text
        and "data-mail-link" in message.text
    )
    assert (await browser.get("/dev/outbox/..%2Fsecret_key")).status_code == 404


async def test_dev_pages_do_not_exist_in_production(sqlite_url: str, tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, environment="production")
    async with browser_for(settings) as browser:
        for path in ("/dev/components", "/dev/outbox"):
            response = await browser.get(path)
            assert response.status_code == 404 and "Page not found" in response.text
