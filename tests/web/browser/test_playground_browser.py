"""The API Store and the playground in Chromium: search the store, "Try it", watch an answer
stream in, Stop a long one and read its cost and the balance, compare two models side by
side; every state screenshotted at both widths and themes and checked by axe-core."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from modelsnest.auth.users import create_user
from modelsnest.db.base import utcnow
from modelsnest.db.models import User
from modelsnest.money import usd_to_nanos
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.live import Platform, ServerProcess
from tests.web.browser.flows import PASSWORD, new_email, sign_in
from tests.web.browser.harness import apply_theme, capture, screenshot

LONG_REPLY = " ".join(f"word{i}" for i in range(400))


@dataclass
class Customer:
    email: str
    long_model: str


async def _prepare(database_url: str, upstream: str) -> Customer:
    platform = Platform(database_url)
    try:
        email = new_email()
        user = await create_user(
            platform.sessions, email=email, password=PASSWORD, credits_nanos=usd_to_nanos("5")
        )
        async with platform.sessions.begin() as session:
            await session.execute(update(User).where(User.id == user.id).values(email_verified_at=utcnow()))
        provider = await platform.provider("openai", upstream)
        model = await platform.model([(provider, "storyteller")], input_price="0.001", output_price="0.002")
        return Customer(email, model)
    finally:
        await platform.close()


@pytest.fixture
def customer(live_site: ServerProcess, openai_upstream: FakeOpenAIUpstream) -> Iterator[Customer]:
    openai_upstream.set(reply=LONG_REPLY, chunk_delay=0.05)
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(asyncio.run, _prepare(live_site.database_url, openai_upstream.base_url)).result()


def test_store_search_try_it_stream_stop_and_compare(page: Page, customer: Customer) -> None:
    sign_in(page, customer.email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", name="API Store", level=1)).to_be_visible()
    capture(page, "/dashboard", "dashboard-store")
    capture(page, "/dashboard?q=no-such-model-at-all", "dashboard-store-empty")

    # Search (htmx swaps the results while typing), then try a chat model.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/dashboard")
    page.get_by_label("Search models").fill("deepseek")
    expect(page).to_have_url(re.compile(r"q=deepseek"))
    expect(page.locator('[data-model="gpt-4o"]')).to_have_count(0)
    card = page.locator('[data-model="deepseek"]')
    card.get_by_role("link", name="Try it").click()
    expect(page).to_have_url(re.compile(r"/dashboard/playground\?model=deepseek$"))
    expect(page.get_by_label("Model", exact=True)).to_have_value("deepseek")

    # Ask: the answer streams in, then its cost and the balance.
    page.get_by_label("System prompt").fill("Answer in two sentences.")
    page.get_by_label("Message").fill("What does an AI gateway do?")
    page.get_by_role("button", name="Send").click()
    answer = page.locator(".pg-msg-assistant").last
    expect(answer.locator(".pg-msg-body.is-streaming")).to_have_count(1)
    expect(answer.locator(".pg-receipt")).to_contain_text(re.compile(r"Cost \$0\.\d+ · .* · Balance \$4\.99"))
    expect(page).to_have_url(re.compile(r"/dashboard/playground\?c=\d+$"))
    conversation = page.url
    expect(page.locator(".pg-history-item")).to_have_count(1)
    expect(
        page.locator(".pg-history-item").get_by_role("button", name=re.compile("Delete the conversation"))
    ).to_have_count(1)

    # A long answer, stopped: what was delivered stays, and what it cost.
    page.get_by_label("Model", exact=True).select_option(customer.long_model)
    page.get_by_label("Message").fill("Tell me a very long story.")
    page.get_by_role("button", name="Send").click()
    long_answer = page.locator(".pg-msg-assistant").last
    expect(long_answer.locator(".pg-msg-body")).to_contain_text("word5")
    page.get_by_role("button", name="Stop").click()
    expect(long_answer.locator(".pg-receipt")).to_contain_text(
        re.compile(r"Stopped · Cost \$0\.\d+ · .* · Balance \$4\.9"), timeout=15_000
    )
    shown = long_answer.locator(".pg-msg-body").inner_text()
    assert "word399" not in shown
    expect(page.get_by_role("button", name="Send")).to_be_enabled()
    page.evaluate("window.scrollTo(0, 0)")
    apply_theme(page, "light")
    screenshot(page, "dashboard-playground-stopped-1280-light")
    capture(page, conversation, "dashboard-playground")
    capture(page, "/dashboard/playground", "dashboard-playground-new")

    # Compare mode: the same prompt to two models, each with its own cost and latency.
    def compare(p: Page) -> None:
        p.get_by_label("Model 1").select_option("deepseek")
        p.get_by_label("Model 2 (optional)").select_option("gpt-4o-mini")
        p.get_by_label("Prompt", exact=True).fill("Name three uses of embeddings.")
        p.get_by_role("button", name="Send to all").click()
        p.mouse.move(0, 0)  # not hovering: the check is of the page at rest
        columns = p.locator(".pg-column")
        expect(columns).to_have_count(2)
        for index in range(2):
            expect(columns.nth(index).locator(".pg-receipt")).to_contain_text(re.compile(r"Cost \$0\.\d+"))
            expect(columns.nth(index).locator(".pg-latency")).to_contain_text("First token in")
        expect(p.get_by_role("button", name="Send to all")).to_be_enabled()
        p.evaluate("window.scrollTo(0, 0)")

    capture(page, "/dashboard/playground?mode=compare", "dashboard-playground-compare", before=compare)
