"""``/dashboard/playground``: answers streamed through the API's own gateway and ledger as
the signed-in user (origin ``playground``), billed exactly like an API call, kept in the
owner's conversations; refusals are sentences and cost nothing; CSRF on every POST."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from modelsnest import billing
from modelsnest.db.models import PlaygroundConversation, PlaygroundMessage, UsageLog
from modelsnest.money import format_balance, format_usd
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.live import Platform
from tests.web.helpers import Browser, csrf_of, second_browser
from tests.web.playground_helpers import fund, named, sse

STREAM = "/dashboard/playground/stream"


async def _user_id(browser: Browser) -> int:
    signed_in = await browser.services.accounts.resolve(browser.session_cookie())
    assert signed_in is not None
    return signed_in.user_id


async def _funded(site: Browser, email: str, usd: str = "5") -> tuple[int, str]:
    await site.sign_up(email)
    user_id = await _user_id(site)
    await fund(site.services.sessions, user_id, usd)
    page = await site.get("/dashboard/playground")
    assert page.status_code == 200
    return user_id, csrf_of(page.text)


async def _ask(site: Browser, csrf: str, **fields: str) -> tuple[int, list[tuple[str, object]]]:
    data = {"model": "deepseek", "message": "What is a gateway?", "temperature": "0.7", "max_tokens": "200"}
    response = await site.client.post(STREAM, data={**data, **fields}, headers={"X-CSRF-Token": csrf})
    if response.status_code == 200:
        assert response.headers["content-type"].startswith("text/event-stream")
    return response.status_code, sse(response.text)


async def _usage(site: Browser, request_id: str) -> UsageLog:
    async with site.services.sessions() as session:
        row = (await session.execute(select(UsageLog).where(UsageLog.request_id == request_id))).scalar_one()
    return row


async def test_the_page_preselects_the_model_from_the_store(site: Browser) -> None:
    await site.sign_up("page@example.com")
    page = await site.get("/dashboard/playground?model=gpt-4o-mini")
    assert page.status_code == 200
    assert '<option value="gpt-4o-mini" selected>' in page.text
    options = re.findall(r'<option value="([^"]+)"', page.text)
    assert "deepseek" in options and "dall-e-3" not in options and "whisper-1" not in options
    for name in ("model", "system", "temperature", "max_tokens", "message"):
        field_id = re.search(rf'id="([^"]+)" name="{name}"', page.text)
        assert field_id is not None and f'for="{field_id.group(1)}"' in page.text, name
    assert "No conversations yet" in page.text
    unknown = await site.get("/dashboard/playground?model=no-such")
    assert "There is no chat model “no-such”" in unknown.text


async def test_anonymous_visitors_are_sent_to_sign_in(site: Browser) -> None:
    page = await site.get("/dashboard/playground?model=deepseek")
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    stream = await site.post(STREAM, {"model": "deepseek", "message": "hi"})
    assert stream.status_code == 303


async def test_an_answer_streams_and_is_billed_like_the_api_then_saved(site: Browser) -> None:
    user_id, csrf = await _funded(site, "stream@example.com")
    status, events = await _ask(site, csrf, system="Answer briefly.")
    assert status == 200
    assert [e for e, _ in events][0] == "start"
    start = named(events, "start")[0]
    deltas = named(events, "delta")
    assert len(deltas) > 3  # token by token
    text = "".join(d["text"] for d in deltas)
    done = named(events, "done")[0]
    assert events[-1][0] == "done" and done["status"] == "success"
    # The bill is the gateway's usage row of this request, written with the playground origin.
    row = await _usage(site, start["request_id"])
    assert row.origin == "playground" and row.api_token_id is None and row.streamed
    assert done["cost_nanos"] == row.cost_nanos > 0
    assert done["completion_tokens"] == row.completion_tokens
    balance = await billing.get_balance(site.services.sessions, user_id)
    assert balance.balance_nanos == 5_000_000_000 - row.cost_nanos and balance.reserved_nanos == 0
    assert done["balance"] == format_balance(balance.available_nanos)
    assert done["balance_exact"] == format_usd(balance.available_nanos)
    assert "<p>" in done["html"] or "<" in done["html"]
    # The conversation is kept: the question and the answer with its cost.
    conversation_id = start["conversation_id"]
    assert isinstance(conversation_id, int)
    page = await site.get(f"/dashboard/playground?c={conversation_id}")
    assert page.status_code == 200
    assert "What is a gateway?" in page.text and "Answer briefly." in page.text
    assert f'href="/dashboard/playground?c={conversation_id}" aria-current="page"' in page.text
    async with site.services.sessions() as session:
        turns = (
            await session.scalars(
                select(PlaygroundMessage)
                .where(PlaygroundMessage.conversation_id == conversation_id)
                .order_by(PlaygroundMessage.id)
            )
        ).all()
    assert [t.role for t in turns] == ["user", "assistant"]
    assert turns[1].content == text and turns[1].cost_nanos == row.cost_nanos
    assert turns[1].request_id == start["request_id"] and turns[1].status == "success"
    # A follow-up continues the conversation with its history.
    status, events = await _ask(
        site, csrf, message="And a second question?", conversation_id=str(conversation_id)
    )
    assert status == 200 and named(events, "start")[0]["conversation_id"] == conversation_id
    assert named(events, "done")


async def test_model_output_is_rendered_as_markdown_without_raw_html(
    site: Browser, openai_upstream: FakeOpenAIUpstream
) -> None:
    platform = Platform(str(site.services.settings.database_url))
    try:
        provider = await platform.provider("openai", openai_upstream.base_url)
        model = await platform.model([(provider, "m")])
    finally:
        await platform.close()
    site.services.gateway.catalog.invalidate()
    openai_upstream.set(
        reply="**Bold** and `code`\n\n```python\nprint(1)\n```\n\n<script>alert(1)</script><img src=x onerror=alert(2)>"
    )
    _, csrf = await _funded(site, "markdown@example.com")
    status, events = await _ask(site, csrf, model=model)
    assert status == 200
    html = named(events, "done")[0]["html"]
    assert "<strong>Bold</strong>" in html and "<code>code</code>" in html
    assert '<pre><code class="language-python">print(1)' in html
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    # The saved conversation renders it the same way.
    conversation_id = named(events, "start")[0]["conversation_id"]
    page = await site.get(f"/dashboard/playground?c={conversation_id}")
    assert "<strong>Bold</strong>" in page.text and "<script>alert(1)" not in page.text


async def test_conversations_are_only_their_owners(site: Browser) -> None:
    _, csrf = await _funded(site, "owner@example.com")
    _, events = await _ask(site, csrf)
    conversation_id = named(events, "start")[0]["conversation_id"]
    request_id = named(events, "start")[0]["request_id"]
    async with await second_browser(site) as other:
        intruder = Browser(client=other, app=site.app)
        await intruder.sign_up("intruder@example.com")
        await fund(site.services.sessions, await _user_id(intruder), "5")
        page = await intruder.get(f"/dashboard/playground?c={conversation_id}")
        assert page.status_code == 404 and "Conversation not found" in page.text
        listing = await intruder.get("/dashboard/playground")
        assert "What is a gateway?" not in listing.text and "No conversations yet" in listing.text
        token = csrf_of(listing.text)
        status, events = await _ask(intruder, token, conversation_id=str(conversation_id))
        assert status == 404 and named(events, "error")
        deleted = await intruder.post(
            f"/dashboard/playground/conversations/{conversation_id}/delete", {"csrf_token": token}
        )
        assert deleted.status_code == 404
        receipt = await intruder.get(f"/dashboard/playground/receipts/{request_id}")
        assert receipt.status_code == 202 and "cost" not in receipt.text  # never another user's bill
    still = await site.get(f"/dashboard/playground?c={conversation_id}")
    assert still.status_code == 200


async def test_delete_forgets_a_conversation(site: Browser) -> None:
    user_id, csrf = await _funded(site, "delete@example.com")
    _, events = await _ask(site, csrf)
    conversation_id = named(events, "start")[0]["conversation_id"]
    refused = await site.post(f"/dashboard/playground/conversations/{conversation_id}/delete")
    assert refused.status_code == 403  # no CSRF token
    response = await site.post(
        f"/dashboard/playground/conversations/{conversation_id}/delete",
        {"csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "Conversation deleted" in response.headers["HX-Trigger"]
    async with site.services.sessions() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(PlaygroundConversation)
            .where(PlaygroundConversation.user_id == user_id)
        )
        orphans = await session.scalar(
            select(func.count())
            .select_from(PlaygroundMessage)
            .where(PlaygroundMessage.conversation_id == conversation_id)
        )
    assert left == 0 and orphans == 0
    assert (await site.get(f"/dashboard/playground?c={conversation_id}")).status_code == 404


async def test_insufficient_credits_is_a_sentence_and_costs_nothing(site: Browser) -> None:
    await site.sign_up("poor@example.com")
    user_id = await _user_id(site)
    csrf = csrf_of((await site.get("/dashboard/playground")).text)
    status, events = await _ask(site, csrf)
    assert status == 402
    assert [e for e, _ in events] == ["error"]
    assert "not have enough credits" in named(events, "error")[0]["message"]
    balance = await billing.get_balance(site.services.sessions, user_id)
    assert balance.balance_nanos == 0 and balance.reserved_nanos == 0
    async with site.services.sessions() as session:
        saved = await session.scalar(select(func.count()).select_from(PlaygroundConversation))
        charged = await session.scalar(
            select(func.coalesce(func.sum(UsageLog.cost_nanos), 0)).where(UsageLog.user_id == user_id)
        )
    assert saved == 0 and charged == 0


async def test_unknown_model_and_bad_fields_are_sentences(site: Browser) -> None:
    user_id, csrf = await _funded(site, "bad@example.com")
    status, events = await _ask(site, csrf, model="no-such-model")
    assert status == 400 and "There is no model “no-such-model”" in named(events, "error")[0]["message"]
    status, events = await _ask(site, csrf, model="dall-e-3")
    assert status == 400 and "cannot answer chats" in named(events, "error")[0]["message"]
    for fields, field in (
        ({"message": "  "}, "message"),
        ({"temperature": "3"}, "temperature"),
        ({"temperature": "warm"}, "temperature"),
        ({"max_tokens": "0"}, "max_tokens"),
        ({"model": ""}, "model"),
    ):
        status, events = await _ask(site, csrf, **fields)
        assert status == 400 and named(events, "error")[0]["field"] == field, fields
    balance = await billing.get_balance(site.services.sessions, user_id)
    assert balance.balance_nanos == 5_000_000_000


async def test_an_upstream_failure_is_shown_and_costs_nothing(
    site: Browser, openai_upstream: FakeOpenAIUpstream
) -> None:
    platform = Platform(str(site.services.settings.database_url))
    try:
        provider = await platform.provider("openai", openai_upstream.base_url)
        model = await platform.model([(provider, "m")])
    finally:
        await platform.close()
    site.services.gateway.catalog.invalidate()
    openai_upstream.set(status=500)
    user_id, csrf = await _funded(site, "upstream@example.com")
    status, events = await _ask(site, csrf, model=model)
    assert status == 502
    assert "not been charged" in named(events, "error")[0]["message"]
    balance = await billing.get_balance(site.services.sessions, user_id)
    assert balance.balance_nanos == 5_000_000_000 and balance.reserved_nanos == 0


async def test_a_stream_without_the_csrf_token_is_refused(site: Browser) -> None:
    user_id, _ = await _funded(site, "csrf@example.com")
    response = await site.client.post(STREAM, data={"model": "deepseek", "message": "hi"})
    assert response.status_code == 403 and "This form has expired" in response.text
    wrong = await site.client.post(
        STREAM, data={"model": "deepseek", "message": "hi"}, headers={"X-CSRF-Token": "forged"}
    )
    assert wrong.status_code == 403
    async with site.services.sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(UsageLog).where(UsageLog.user_id == user_id)
            )
            == 0
        )


async def test_compare_mode_keeps_no_history(site: Browser) -> None:
    user_id, csrf = await _funded(site, "compare@example.com")
    page = await site.get("/dashboard/playground?mode=compare&models=deepseek&models=gpt-4o-mini")
    assert page.status_code == 200
    assert len(re.findall(r'<select class="select" id="pg-model-\d"', page.text)) == 3
    assert re.search(
        r'id="pg-model-2" name="models">.*<option value="gpt-4o-mini" selected>', page.text, re.S
    )
    one = await site.get("/dashboard/playground?mode=compare&models=deepseek")
    chosen = re.findall(r'<option value="([^"]+)" selected>', one.text)
    assert chosen[0] == "deepseek" and len(chosen) == 2 and chosen[1] != "deepseek"
    for model in ("deepseek", "gpt-4o-mini"):
        status, events = await _ask(site, csrf, model=model, mode="compare")
        assert status == 200 and named(events, "start")[0]["conversation_id"] is None
        assert named(events, "done")[0]["cost_nanos"] > 0
    async with site.services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PlaygroundConversation)) == 0


async def test_the_receipt_of_an_answer(site: Browser) -> None:
    _, csrf = await _funded(site, "receipt@example.com")
    _, events = await _ask(site, csrf)
    request_id = named(events, "start")[0]["request_id"]
    receipt = await site.get(f"/dashboard/playground/receipts/{request_id}")
    assert receipt.status_code == 200
    assert receipt.json()["cost_nanos"] == named(events, "done")[0]["cost_nanos"]
    assert receipt.json()["status"] == "success"
