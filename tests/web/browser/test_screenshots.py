"""Every page of the foundation at 1280 and 390 px, light and dark: each one checked by
axe-core (no serious or critical violation), checked for horizontal overflow, and saved to
test-artifacts/screenshots/ as area-page-width-theme.png to be looked at."""

from __future__ import annotations

import re

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
from tests.web.browser.harness import apply_theme, assert_accessible, capture, screenshot


def test_account_pages(page: Page) -> None:
    capture(page, "/login", "accounts-login")
    capture(page, "/signup", "accounts-signup")
    capture(page, "/forgot-password", "accounts-forgot-password")
    capture(page, "/reset-password?token=not-a-real-token", "accounts-reset-password-invalid")
    capture(page, "/verify-email?token=not-a-real-token", "accounts-verify-email-invalid")

    def wrong_password(p: Page) -> None:
        p.get_by_label("E-mail address").fill("nobody@example.com")
        p.get_by_label("Password", exact=True).fill("not-the-password")
        p.get_by_role("button", name="Sign in").click()
        expect(p.get_by_role("alert")).to_contain_text("Wrong e-mail address or password")

    capture(page, "/login", "accounts-login-error", before=wrong_password)

    def signup_errors(p: Page) -> None:
        p.get_by_label("E-mail address").fill("not-an-address")
        p.get_by_label("Password").fill("password")
        p.get_by_role("button", name="Create account").click()
        expect(p.locator(".error-text").first).to_be_visible()

    capture(page, "/signup", "accounts-signup-errors", before=signup_errors)


def test_password_reset_pages(page: Page) -> None:
    email = new_email()
    sign_up(page, email)
    sign_out(page)

    def ask(p: Page) -> None:
        p.get_by_label("E-mail address").fill(email)
        p.get_by_role("button", name="Send the reset link").click()
        expect(p.get_by_role("heading", name="Check your inbox")).to_be_visible()

    capture(page, "/forgot-password", "accounts-forgot-password-sent", before=ask)
    page.goto("/dev/outbox")
    page.get_by_role("link", name="Reset your Modelsnest password").first.click()
    link = page.locator("a[data-mail-link]").filter(has_text="/reset-password").first.get_attribute("href")
    assert link is not None
    message_url = page.url
    capture(page, message_url, "dev-outbox-message")
    capture(page, "/dev/outbox", "dev-outbox")
    capture(page, link, "accounts-reset-password")


def test_two_factor_step(page: Page) -> None:
    email = new_email()
    sign_up(page, email)
    enrol_two_factor(page)
    sign_out(page)
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    capture(page, "/login/two-factor", "accounts-two-factor")


def test_dashboard_pages(page: Page) -> None:
    email = new_email()
    sign_up(page, email)
    capture(page, "/dashboard/keys", "dashboard-keys-unverified")
    verify_from_outbox(page, email)
    capture(page, f"/verify-email?token=used-{email}", "accounts-verify-email-used")
    capture(page, "/dashboard/keys", "dashboard-keys-empty")

    page.goto("/dashboard/keys")
    for name, limit in (("production backend", "25"), ("staging", ""), ("notebook", "2.5")):
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("Spend limit").fill(limit)
        page.get_by_role("button", name="Create key").click()
        expect(page.locator("output#new-key")).to_be_visible()

    # The page right after creating a key, with the key shown once.
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for theme in ("light", "dark"):
            apply_theme(page, theme)
            assert_accessible(page, context=f"new key at {width}, {theme}")
            screenshot(page, f"dashboard-keys-new-key-{width}-{theme}")
    page.goto("/dashboard/keys")
    page.locator("tr", has_text="staging").get_by_role("button", name="Revoke the key staging").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    expect(page.locator("tr", has_text="staging").get_by_text("Revoked", exact=True)).to_be_visible()

    capture(page, "/dashboard/keys", "dashboard-keys")

    def open_revoke_dialog(p: Page) -> None:
        p.locator("tr", has_text="notebook").get_by_role("button", name="Revoke the key notebook").click()
        expect(p.get_by_role("dialog")).to_be_visible()

    capture(page, "/dashboard/keys", "dashboard-keys-revoke-dialog", before=open_revoke_dialog)
    capture(page, "/dashboard/settings", "dashboard-settings")
    capture(page, "/dashboard/settings/security", "dashboard-settings-security")
    capture(page, "/dashboard/settings/sessions", "dashboard-settings-sessions")
    capture(page, "/dashboard/settings/delete", "dashboard-settings-delete")
    capture(page, "/dashboard/settings/two-factor", "dashboard-settings-two-factor")

    page.goto("/dashboard/settings/two-factor")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for theme in ("light", "dark"):
            apply_theme(page, theme)
            assert_accessible(page, context=f"recovery codes at {width}, {theme}")
            screenshot(page, f"dashboard-settings-recovery-codes-{width}-{theme}")
    capture(page, "/dashboard/settings/security", "dashboard-settings-security-2fa-on")
    capture(page, "/no/such/page", "errors-not-found-signed-in")


def test_gallery_and_error_pages(page: Page) -> None:
    capture(page, "/dev/components", "dev-components")
    capture(page, "/no/such/page", "errors-not-found")
