"""``/dashboard/notifications``: the list (read and unread), mark read (also by htmx), mark all
read, the unread count in the header, and the preferences (threshold, e-mail copies). A real
request through the gateway below the user's threshold raises the low-balance alert."""

from __future__ import annotations

import asyncio

from modelsnest import notifications
from modelsnest.notifications import alerts
from tests.web.dashboard_data import USD, chat, customer, new_key, other_visitor
from tests.web.helpers import Browser, csrf_of


async def test_anonymous_visitors_are_sent_to_sign_in(browser: Browser) -> None:
    response = await browser.get("/dashboard/notifications")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


async def test_list_mark_read_and_mark_all_read(browser: Browser) -> None:
    user_id = await customer(browser, "reader@example.com", credits_usd=0)
    empty = await browser.get("/dashboard/notifications")
    assert "No notifications yet" in empty.text and "You are all caught up." in empty.text
    sessions = browser.services.sessions
    first = await notifications.notify(
        sessions, user_id, kind="payment", title="Payment received", link="/dashboard/billing"
    )
    await notifications.notify(
        sessions, user_id, kind="key_expiring", title="Key expires soon", body="Rotate it."
    )
    page = await browser.get("/dashboard/notifications")
    assert page.text.count('class="notice notice-unread"') == 2
    assert 'aria-label="Notifications: 2 unread"' in page.text  # the header's bell
    assert '<span class="count-badge" aria-label="2 unread">2</span>' in page.text  # the sidebar

    by_htmx = await browser.post(
        f"/dashboard/notifications/{first.id}/read",
        headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(page.text)},
    )
    assert (
        by_htmx.status_code == 200
        and 'id="notification-' in by_htmx.text
        and "notice-unread" not in by_htmx.text
    )
    assert "Marked as read." in by_htmx.headers["HX-Trigger"]
    assert await notifications.unread_count(sessions, user_id) == 1
    unread = await browser.get("/dashboard/notifications?show=unread")
    assert "Key expires soon" in unread.text and "Payment received" not in unread.text

    done = await browser.post("/dashboard/notifications/read-all", {"csrf_token": csrf_of(page.text)})
    assert done.status_code == 303
    assert await notifications.unread_count(sessions, user_id) == 0
    assert "Nothing unread" in (await browser.get("/dashboard/notifications?show=unread")).text

    async with other_visitor(browser) as client:
        other = Browser(client, browser.app)
        await customer(other, "nosy@example.com", credits_usd=0)
        page = await other.get("/dashboard/notifications")
        assert "Payment received" not in page.text
        theirs = await other.post(
            f"/dashboard/notifications/{first.id}/read", {"csrf_token": csrf_of(page.text)}
        )
        assert theirs.status_code == 404


async def test_posts_without_csrf_are_refused(browser: Browser) -> None:
    user_id = await customer(browser, "csrfnote@example.com", credits_usd=0)
    note = await notifications.notify(browser.services.sessions, user_id, kind="payment", title="Hello")
    for path, data in (
        (f"/dashboard/notifications/{note.id}/read", {}),
        ("/dashboard/notifications/read-all", {}),
        ("/dashboard/notifications/preferences", {"low_balance_threshold_usd": "1"}),
    ):
        response = await browser.post(path, data)
        assert response.status_code == 403 and "This form has expired" in response.text, path
    assert await notifications.unread_count(browser.services.sessions, user_id) == 1


async def test_preferences_are_saved_and_bad_thresholds_explained(browser: Browser) -> None:
    user_id = await customer(browser, "prefs@example.com", credits_usd=0)
    page = await browser.get("/dashboard/notifications")
    assert 'value="5.00"' in page.text and 'name="email_copies" value="on" checked' in page.text
    for value, message in (("ten", "Enter the threshold in dollars"), ("-3", "from $0 (off) to $1,000,000")):
        bad = await browser.submit(
            "/dashboard/notifications",
            "/dashboard/notifications/preferences",
            {"low_balance_threshold_usd": value},
        )
        assert (
            bad.status_code == 400
            and 'id="f-low_balance_threshold_usd-error"' in bad.text
            and message in bad.text
        )
    saved = await browser.submit(
        "/dashboard/notifications",
        "/dashboard/notifications/preferences",
        {"low_balance_threshold_usd": "12.50"},
    )
    assert saved.status_code == 303
    assert await alerts.get_preferences(browser.services.sessions, user_id) == alerts.Preferences(
        12_500_000_000, False
    )
    page = await browser.get("/dashboard/notifications")
    assert 'value="12.50"' in page.text and "Notification preferences saved." in page.text


async def test_a_request_that_drops_credit_under_the_threshold_alerts_once(site: Browser) -> None:
    user_id = await customer(site, "spender@example.com", credits_usd=20)
    await alerts.set_preferences(
        site.services.sessions, user_id, low_balance_threshold_nanos=20 * USD, email_copies=False
    )
    _, token = await new_key(site, user_id, "app")
    await chat(site, token)  # a few micro-dollars: available is now just under $20
    await chat(site, token)

    async def alerted() -> list[str]:
        return [n.kind for n in await notifications.list_notifications(site.services.sessions, user_id)]

    for _ in range(40):  # the background loop wakes on the charge
        if await alerted():
            break
        await asyncio.sleep(0.1)
    await site.services.alerts.round()
    assert await alerted() == ["low_balance"]
    page = await site.get("/dashboard/notifications")
    assert "Your balance is below $20.00" in page.text
