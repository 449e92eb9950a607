from __future__ import annotations

import pytest

from modelsnest import notifications
from modelsnest.auth.users import create_user
from modelsnest.errors import InvalidRequest
from modelsnest.runtime import Runtime


async def test_unread_count_list_and_mark_read(runtime: Runtime) -> None:
    ann = (await create_user(runtime.sessions, email="ann@example.com")).id
    bob = (await create_user(runtime.sessions, email="bob@example.com")).id
    first = await notifications.notify(
        runtime.sessions, ann, kind="balance", title="Your balance is low", link="/dashboard/billing"
    )
    await notifications.notify(
        runtime.sessions, ann, kind="payment", title="Payment received", body="$25.00 added."
    )
    await notifications.notify(runtime.sessions, bob, kind="payment", title="Bob's")
    assert await notifications.unread_count(runtime.sessions, ann) == 2
    listed = await notifications.list_notifications(runtime.sessions, ann)
    assert [n.title for n in listed] == ["Payment received", "Your balance is low"]
    assert not await notifications.mark_read(runtime.sessions, bob, first.id)  # not Bob's
    assert await notifications.mark_read(runtime.sessions, ann, first.id)
    assert await notifications.unread_count(runtime.sessions, ann) == 1
    assert [
        n.title for n in await notifications.list_notifications(runtime.sessions, ann, unread_only=True)
    ] == ["Payment received"]
    assert await notifications.mark_all_read(runtime.sessions, ann) == 1
    assert await notifications.unread_count(runtime.sessions, ann) == 0
    assert await notifications.unread_count(runtime.sessions, bob) == 1


@pytest.mark.parametrize(
    ("title", "link"), [("", None), ("x" * 201, None), ("ok", "https://evil.example"), ("ok", "//evil")]
)
async def test_bad_notifications_are_refused(runtime: Runtime, title: str, link: str | None) -> None:
    user = (await create_user(runtime.sessions, email="n@example.com")).id
    with pytest.raises(InvalidRequest):
        await notifications.notify(runtime.sessions, user, kind="x", title=title, link=link)


async def test_the_header_shows_the_unread_count(runtime: Runtime) -> None:
    from pathlib import Path

    from tests.web.helpers import browser_for

    async with browser_for(runtime.settings) as browser:
        await browser.sign_up("header@example.com")
        signed_in = await browser.services.accounts.resolve(browser.session_cookie())
        assert signed_in is not None
        for n in range(3):
            await notifications.notify(browser.services.sessions, signed_in.user_id, kind="x", title=f"n{n}")
        page = await browser.get("/dashboard/keys")
        assert 'aria-label="Notifications: 3 unread"' in page.text
    assert Path
