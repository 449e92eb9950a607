"""Steps a person takes in the browser, shared by the journey and the screenshot tests."""

from __future__ import annotations

import re
import secrets

import pyotp
from playwright.sync_api import Page, expect

PASSWORD = "violet-kettle-orbit-42"


def new_email() -> str:
    return f"person-{secrets.token_hex(4)}@example.com"


def sign_up(page: Page, email: str, name: str = "Ada Lovelace") -> None:
    page.goto("/signup")
    page.get_by_label("Name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("I agree to the").check()
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))  # the API Store


def verify_from_outbox(page: Page, email: str) -> None:
    page.goto("/dev/outbox")
    row = page.get_by_role("row").filter(has_text=email).filter(has_text="Confirm your e-mail address")
    row.get_by_role("link").first.click()
    page.locator("a[data-mail-link]").filter(has_text="/verify-email").first.click()
    expect(page.get_by_role("heading", name="E-mail address confirmed")).to_be_visible()


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.goto("/dashboard/keys")
    page.locator("details.user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def enrol_two_factor(page: Page) -> tuple[str, list[str]]:
    page.goto("/dashboard/settings/security")
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    return secret, codes
