"""A person's first day, in a real browser: sign up, confirm the address from the outbox,
sign in, turn on two-factor sign-in, sign out, sign in with a code, create a key, copy it,
revoke it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
from playwright.sync_api import Page, expect

from tests.web.browser.flows import (
    enrol_two_factor,
    new_email,
    sign_in,
    sign_out,
    sign_up,
    verify_from_outbox,
)
from tests.web.browser.harness import assert_accessible


def test_sign_up_to_revoking_a_key(page: Page) -> None:
    email = new_email()
    sign_up(page, email)
    expect(page.get_by_text("Confirm your e-mail address: we sent a link")).to_be_visible()
    page.goto("/dashboard/keys")
    expect(page.get_by_text("Confirm your e-mail address first")).to_be_visible()
    verify_from_outbox(page, email)

    sign_out(page)
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_text("Confirm your e-mail address: we sent a link")).to_have_count(0)

    secret, codes = enrol_two_factor(page)
    assert len(codes) == 10
    sign_out(page)
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    assert_accessible(page)
    # The enrolment spent this step's code; the next step's is already accepted.
    page.get_by_label("Authentication code").fill(
        pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
    )
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    page.goto("/dashboard/keys")

    page.get_by_label("Name", exact=True).fill("journey key")
    page.get_by_label("Spend limit").fill("5")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("output#new-key").inner_text()
    assert re.fullmatch(r"ptr_[A-Za-z0-9_-]{40,}", key)
    page.get_by_role("button", name="Copy the API key").click()
    expect(page.get_by_role("button", name="Copy the API key")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == key

    page.goto("/dashboard/keys")
    row = page.locator("tr", has_text="journey key")
    expect(row.get_by_text("Active")).to_be_visible()
    row.get_by_role("button", name="Revoke the key journey key").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert_accessible(page)
    dialog.get_by_role("button", name="Revoke key").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("tr", has_text="journey key").get_by_text("Revoked", exact=True)).to_be_visible()
    expect(page.locator(".toast").filter(has_text="revoked")).to_be_visible()
    # The swap happened in place: no navigation.
    assert page.url.endswith("/dashboard/keys")
    # And the key no longer works against the API.
    status = page.evaluate(
        "async key => (await fetch('/api/v1/credits', {headers: {Authorization: 'Bearer ' + key}})).status",
        key,
    )
    assert status in (401, 200)  # within the verifier's cache TTL (0.2 s here) it becomes 401
    page.wait_for_timeout(400)
    assert (
        page.evaluate(
            "async key => (await fetch('/api/v1/credits', {headers: {Authorization: 'Bearer ' + key}})).status",
            key,
        )
        == 401
    )


def test_the_theme_toggle_is_remembered_without_a_flash(page: Page) -> None:
    page.emulate_media(color_scheme="light")
    page.goto("/login")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.get_by_role("button", name="Switch to dark theme").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.goto("/signup")
    # Set by the blocking script in <head>, before the first paint.
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"


def test_the_sidebar_becomes_a_menu_on_a_phone(page: Page) -> None:
    sign_up(page, new_email())
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/dashboard/keys")
    sidebar_link = page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Settings")
    expect(sidebar_link).not_to_be_in_viewport()
    page.get_by_role("button", name="Open the navigation").click()
    expect(sidebar_link).to_be_in_viewport()
    sidebar_link.click()
    expect(page).to_have_url(re.compile(r"/dashboard/settings$"))
