"""Issue 8's journey, end to end in Chromium against a live server: sign up, confirm the address
from the outbox, receive credits, create a key, ask the playground a question and watch the
answer stream, stop a long answer, then find both requests in usage analytics — and the
balance lower by exactly what the two cost, to the nano-dollar."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from playwright.sync_api import Page, expect
from sqlalchemy import select

from modelsnest import billing
from modelsnest.db.models import UsageLog, User
from modelsnest.money import format_usd, usd_to_nanos
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.live import Platform, ServerProcess
from tests.web.browser.flows import new_email, sign_up, verify_from_outbox

T = TypeVar("T")
LONG_REPLY = " ".join(f"word{i}" for i in range(400))


def on_database(live_site: ServerProcess, work: Callable[[Platform], Coroutine[Any, Any, T]]) -> T:
    """Run ``work`` against the live server's database (sync Playwright owns this thread's loop)."""

    async def run() -> T:
        platform = Platform(live_site.database_url)
        try:
            return await work(platform)
        finally:
            await platform.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


def test_sign_up_to_a_streamed_and_a_stopped_answer_billed_exactly(
    page: Page, live_site: ServerProcess, openai_upstream: FakeOpenAIUpstream
) -> None:
    email = new_email()
    sign_up(page, email)
    verify_from_outbox(page, email)
    openai_upstream.set(reply=LONG_REPLY, chunk_delay=0.05)

    async def fund_and_add_a_slow_model(platform: Platform) -> tuple[int, str]:
        async with platform.sessions() as session:
            user_id = (await session.execute(select(User.id).where(User.email == email))).scalar_one()
        await billing.top_up(
            platform.sessions,
            user_id=user_id,
            amount_nanos=usd_to_nanos("5"),
            idempotency_key=f"journey-{user_id}",
        )
        provider = await platform.provider("openai", openai_upstream.base_url)
        slow = await platform.model([(provider, "storyteller")], input_price="0.001", output_price="0.002")
        return user_id, slow

    user_id, slow_model = on_database(live_site, fund_and_add_a_slow_model)

    # A key, shown once.
    page.goto("/dashboard/keys")
    page.get_by_label("Name", exact=True).fill("first key")
    page.get_by_role("button", name="Create key").click()
    assert re.fullmatch(r"ptr_[A-Za-z0-9_-]{40,}", page.locator("output#new-key").inner_text())

    # A question in the playground: the answer streams in, then its cost and the balance.
    page.goto("/dashboard/playground?model=deepseek")
    page.get_by_label("Message").fill("What does an AI gateway do?")
    page.get_by_role("button", name="Send").click()
    answer = page.locator(".pg-msg-assistant").last
    expect(answer.locator(".pg-msg-body.is-streaming")).to_have_count(1)
    expect(answer.locator(".pg-receipt")).to_contain_text(re.compile(r"Cost \$0\.\d+"))

    # A long answer, stopped part-way.
    page.get_by_label("Model", exact=True).select_option(slow_model)
    page.get_by_label("Message").fill("Tell me a very long story.")
    page.get_by_role("button", name="Send").click()
    long_answer = page.locator(".pg-msg-assistant").last
    expect(long_answer.locator(".pg-msg-body")).to_contain_text("word5")
    page.get_by_role("button", name="Stop").click()
    expect(long_answer.locator(".pg-receipt")).to_contain_text(
        re.compile(r"Stopped · Cost \$0\.\d+"), timeout=15_000
    )
    assert "word399" not in long_answer.locator(".pg-msg-body").inner_text()

    async def ledger(platform: Platform) -> tuple[list[Any], billing.Balance, list[str]]:
        async with platform.sessions() as session:
            rows = list(
                (
                    await session.execute(
                        select(UsageLog).where(UsageLog.user_id == user_id).order_by(UsageLog.id)
                    )
                )
                .scalars()
                .all()
            )
        return rows, await platform.balance(user_id), await platform.invariants(user_id)

    rows, balance, problems = on_database(live_site, ledger)
    assert [(r.model_slug, r.status, r.origin) for r in rows] == [
        ("deepseek", "success", "playground"),
        (slow_model, "cancelled", "playground"),
    ]
    spent = sum(r.cost_nanos for r in rows)
    assert all(r.cost_nanos > 0 for r in rows)
    assert balance.balance_nanos == usd_to_nanos("5") - spent and balance.reserved_nanos == 0
    assert problems == []

    # Both requests in usage analytics, each with its exact cost; the billing page agrees.
    page.goto("/dashboard/usage")
    table = page.get_by_role("table").filter(has_text="Latency")
    for row in rows:
        line = table.locator("tr", has_text=row.model_slug)
        expect(line).to_have_count(1)
        expect(line).to_contain_text(format_usd(row.cost_nanos))
    page.goto("/dashboard/billing")
    assert format_usd(balance.balance_nanos) in page.content()  # shown, or exact in its title
