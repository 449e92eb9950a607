"""The API Store's products in a real browser: the APIs filter, a product's page, and its
"try it" builder (htmx swaps in the answer: a QR code's PNG preview and its cost). Then the
pages at both widths and both themes (axe must pass)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from modelsnest.auth.users import create_user
from modelsnest.crypto import SecretBox
from modelsnest.db.base import utcnow
from modelsnest.db.models import User
from modelsnest.errors import Conflict
from modelsnest.money import usd_to_nanos
from modelsnest.store.products import create_product
from modelsnest.store.types import ProductSpec
from tests.live import SECRET_KEY, Platform, ServerProcess
from tests.web.browser.flows import PASSWORD, new_email, sign_in
from tests.web.browser.harness import assert_no_horizontal_overflow, capture, screenshot, set_theme


async def _funded_customer(database_url: str) -> str:
    platform = Platform(database_url)
    try:
        email = new_email()
        user = await create_user(
            platform.sessions, email=email, password=PASSWORD, credits_nanos=usd_to_nanos("5")
        )
        async with platform.sessions.begin() as session:
            await session.execute(update(User).where(User.id == user.id).values(email_verified_at=utcnow()))
        return email
    finally:
        await platform.close()


@pytest.fixture
def email(live_site: ServerProcess) -> Iterator[str]:
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(asyncio.run, _funded_customer(live_site.database_url)).result()


# An operator's docs at their widest: a long code line, an indented block, a long inline code
# span, a long link and a wide table. At 390px each scrolls inside its own frame (or wraps).
LONG = "https://api.example.com/v1/" + "very-long-path-segment/" * 8 + "?token=" + "x" * 60
WIDE_DOCS = f"""# Wide docs

```bash
curl -X POST "{LONG}" -H "Authorization: Bearer ptr_..." -H "Content-Type: application/json" -d '{{"a": 1}}'
```

    indented_code_block_that_is_far_too_long_for_a_phone = "{"y" * 80}"

Inline: `{"z" * 90}` and a link: <{LONG}>.

| {" | ".join(f"column {i}" for i in range(12))} |
|{"---|" * 12}
| {" | ".join("value-" + "w" * 12 for _ in range(12))} |
"""


async def _wide_docs_product(database_url: str) -> None:
    platform = Platform(database_url)
    try:
        spec = ProductSpec(
            name="Wide Docs", upstream_base_url="https://api.example.com/v1", docs_markdown=WIDE_DOCS
        )
        with contextlib.suppress(Conflict):
            await create_product(platform.sessions, SecretBox(SECRET_KEY), "wide-docs", spec)
    finally:
        await platform.close()


def _try_markdown(p: Page) -> None:
    p.get_by_role("button", name="Send request").click()
    expect(p.locator("#try-result pre.try-body")).to_be_visible()
    expect(p.locator(".htmx-request")).to_have_count(0)
    p.mouse.move(0, 0)
    p.locator("#try-result-title").evaluate("el => { el.tabIndex = -1; el.focus(); }")
    p.wait_for_timeout(300)
    p.evaluate("window.scrollTo(0, 0)")


def _try_qr(p: Page) -> None:
    p.get_by_role("button", name="Send request").click()
    expect(p.locator("#try-result img")).to_be_visible()
    expect(p.locator(".htmx-request")).to_have_count(0)
    p.mouse.move(0, 0)  # no hover or focus ring left on the button for the contrast check
    p.locator("#try-result-title").evaluate("el => { el.tabIndex = -1; el.focus(); }")
    p.wait_for_timeout(300)  # the button's transition back from its pressed state
    p.evaluate("window.scrollTo(0, 0)")  # full-page screenshots start at the top


def test_apis_in_the_store_product_page_and_try_it(page: Page, email: str) -> None:
    sign_in(page, email)
    page.goto("/dashboard")
    page.locator('input[name="kind"][value="apis"]').check()
    expect(page).to_have_url(re.compile(r"kind=apis"))
    expect(page.locator("[data-model]")).to_have_count(0)
    # htmx swapped the results; the chips' numbers came with them (models' categories: none).
    expect(page.locator("#count-category-image")).to_have_text("0")
    expect(page.locator("#count-category-all")).to_have_text(page.locator("#count-kind-apis").inner_text())
    expect(page.locator('[data-product="qr-code"]')).to_be_visible()
    page.locator('[data-product="qr-code"]').get_by_role("link", name="Try it").click()
    expect(page.get_by_role("heading", name="QR Code Generator", level=1)).to_be_visible()
    _try_qr(page)
    expect(page.locator("#try-result [data-status]")).to_have_text("200")
    expect(page.locator("#try-result")).to_contain_text("$0.0002")

    capture(page, "/dashboard?kind=apis", "dashboard-store-apis")
    capture(page, "/dashboard/store/qr-code", "dashboard-store-product")
    capture(page, "/dashboard/store/qr-code", "dashboard-store-product-tried", before=_try_qr)
    capture(page, "/dashboard/store/html-to-markdown", "dashboard-store-product-post")


def test_wide_docs_scroll_inside_their_frames_on_a_phone(
    page: Page, email: str, live_site: ServerProcess
) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _wide_docs_product(live_site.database_url)).result()
    sign_in(page, email)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/dashboard/store/wide-docs")
    expect(page.get_by_role("heading", name="Wide Docs", level=1)).to_be_visible()
    assert_no_horizontal_overflow(page, "wide docs at 390px")
    # The long code line is there, scrolled inside its block: not wrapped, not clipped away.
    scrolls = page.locator(".store-docs pre").first.evaluate("el => el.scrollWidth > el.clientWidth")
    assert scrolls
    capture(page, "/dashboard/store/wide-docs", "dashboard-store-product-wide")
    # A JSON answer with long lines, tried on the phone: it scrolls inside its own frame too.
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/dashboard/store/html-to-markdown")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("#try-result pre.try-body")).to_be_visible()
    assert_no_horizontal_overflow(page, "a JSON answer at 390px")
    capture(
        page, "/dashboard/store/html-to-markdown", "dashboard-store-product-post-tried", before=_try_markdown
    )


def test_the_primary_button_under_the_pointer_stays_readable_in_dark_mode(page: Page, email: str) -> None:
    sign_in(page, email)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/dashboard/store/qr-code")
    set_theme(page, "dark")
    page.reload()
    button = page.locator(".page-header .btn-primary")
    button.hover()
    page.wait_for_timeout(300)  # the hover transition
    colours = button.evaluate("el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]")
    assert colours == ["rgb(69, 71, 208)", "rgb(255, 255, 255)"]  # #4547d0 under white: 6.9:1
    screenshot(page, "dashboard-store-product-hover-1280-dark")
