"""``POST /api/v1/responses`` served natively by an upstream that speaks the Responses API
(an ``openai`` provider with ``responses_api: true``; the real OpenAI API without the flag):
the body goes to ``/v1/responses`` as it came — our upstream model, ``store: false``, no routing
fields — and comes back untouched but for ``model`` and our cost, billed by dimension from the
upstream's Responses usage (cached input, reasoning). Streams pass the typed events through; a
cut stream bills what it delivered; ``previous_response_id`` continues from our storage."""

from __future__ import annotations

import asyncio
import json
import socket
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from modelsnest.db.models import Provider
from modelsnest.providers.novita import NovitaProvider
from modelsnest.providers.openai_compat import OpenAICompatProvider
from modelsnest.providers.tokens import count_tokens
from modelsnest.providers.types import ProviderConfig
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.server import FakeToolCall, reply_pieces
from tests.gateway.helpers import exact_json, nanos, sdk, sse_events, usage_row
from tests.live import Platform, ServerProcess

pytestmark = pytest.mark.postgres

DIMENSIONS = {"cached_input": "0.0005", "reasoning": "0.004"}
# 2 000 input tokens (1 024 cached) and 34 output (30 reasoning): input 0.001, output 0.002 per 1K.
COST = 976 * 1_000 + 1_024 * 500 + 4 * 2_000 + 30 * 4_000
TOOLS: Any = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]


async def native_model(platform: Platform, upstream: FakeOpenAIUpstream) -> str:
    provider = await platform.provider("openai", upstream.base_url)
    async with platform.sessions.begin() as session:
        await session.execute(
            update(Provider).where(Provider.name == provider).values(config={"responses_api": True})
        )
    return await platform.model([(provider, "gpt-up")], dimensions=DIMENSIONS)


def priced(upstream: FakeOpenAIUpstream, **extra: Any) -> None:
    upstream.set(
        reply="one two three four", prompt_tokens=2_000, cached_tokens=1_024, reasoning_tokens=30, **extra
    )


async def test_a_native_answer_is_the_upstreams_with_our_model_and_exact_cost(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug = await native_model(platform, openai_upstream)
    account = await platform.account("1")
    priced(openai_upstream)
    raw = sdk(live_server, account.token).responses.with_raw_response.create(
        model=slug,
        instructions="Be brief.",
        input="Hi",
        max_output_tokens=200,
        extra_body={"models": [slug], "metadata": {"kept": "yes"}},
    )
    response = raw.parse()
    assert response.output_text == "one two three four" and response.model == slug
    sent = openai_upstream.last
    assert sent.path == "/v1/responses"
    assert sent.json["model"] == "gpt-up" and sent.json["store"] is False
    assert sent.json["input"] == "Hi" and sent.json["instructions"] == "Be brief."
    assert sent.json["max_output_tokens"] == 200 and sent.json["metadata"] == {"kept": "yes"}
    assert not {"models", "provider", "previous_response_id", "stream"} & set(sent.json)

    body = exact_json(raw.http_response)
    assert body["id"].startswith("resp_fake") and body["store"] is True
    assert body["usage"]["input_tokens_details"]["cached_tokens"] == 1_024
    assert body["usage"]["output_tokens_details"]["reasoning_tokens"] == 30
    assert nanos(body["usage"]["cost"]) == nanos(body["billing"]["cost_usd"]) == COST
    row = await usage_row(platform, raw.http_response.headers["x-request-id"])
    assert (row.cost_nanos, row.prompt_tokens, row.completion_tokens) == (COST, 2_000, 34)
    assert (row.cached_tokens, row.reasoning_tokens, row.status) == (1_024, 30, "success")
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - COST


async def test_a_native_stream_passes_the_typed_events_and_bills_the_completed_usage(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug = await native_model(platform, openai_upstream)
    account = await platform.account("1")
    priced(openai_upstream)
    client = sdk(live_server, account.token)
    with client.responses.stream(model=slug, input="Hi") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]  # type: ignore[union-attr]
    assert deltas == reply_pieces("one two three four")
    assert final.output_text == "one two three four" and final.model == slug
    sent = openai_upstream.last.json
    assert sent["stream"] is True and sent["store"] is False and sent["model"] == "gpt-up"

    completed = json.loads(events[-1].model_dump_json(warnings=False), parse_float=Decimal)["response"]
    assert nanos(completed["usage"]["cost"]) == nanos(completed["billing"]["cost_usd"]) == COST
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - COST
    # Stored as it was sent: retrievable by its (the upstream's) id.
    assert client.responses.retrieve(final.id).output_text == "one two three four"


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_native_function_call(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream, streamed: bool
) -> None:
    slug = await native_model(platform, openai_upstream)
    account = await platform.account("1")
    openai_upstream.set(tool_calls=[FakeToolCall("get_weather", {"city": "Paris"})])
    client = sdk(live_server, account.token)
    if streamed:
        with client.responses.stream(model=slug, input="Weather in Paris?", tools=TOOLS) as stream:
            final = stream.get_final_response()
    else:
        final = client.responses.create(model=slug, input="Weather in Paris?", tools=TOOLS)
    call = next(item for item in final.output if item.type == "function_call")
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert openai_upstream.last.json["tools"] == TOOLS  # hosted-tool shape, untranslated
    assert final.usage is not None
    cost = -(-(final.usage.input_tokens * 1_000_000 + final.usage.output_tokens * 2_000_000) // 1000)
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - cost


async def test_a_cut_native_stream_bills_what_it_delivered(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug = await native_model(platform, openai_upstream)
    account = await platform.account("1")
    reply = " ".join(f"w{i}" for i in range(20))
    # created, in_progress, item added, part added, then two deltas: the connection drops.
    openai_upstream.set(reply=reply, cached_tokens=1_024, drop_after=6)
    response = httpx.post(
        f"{live_server.api_base}/responses",
        json={"model": slug, "input": "Hi", "stream": True},
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=30,
    )
    assert response.status_code == 200
    events = sse_events(response.text)
    assert [e["type"] for e in events if e["type"].endswith(".delta")] == ["response.output_text.delta"] * 2
    assert events[-1]["type"] == "response.failed"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    row = await usage_row(platform, response.headers["x-request-id"])
    delivered = sum(count_tokens(piece) for piece in reply_pieces(reply)[:2])
    assert row.status == "partial" and row.completion_tokens == delivered and row.cached_tokens == 0
    assert row.cost_nanos == -(-(row.prompt_tokens * 1_000_000 + delivered * 2_000_000) // 1000)
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - row.cost_nanos


async def test_previous_response_id_continues_from_our_storage(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug = await native_model(platform, openai_upstream)
    account = await platform.account("1")
    client = sdk(live_server, account.token)
    openai_upstream.set(reply="Hello Ada.")
    first = client.responses.create(model=slug, input="My name is Ada.")
    openai_upstream.set(reply="Your name is Ada.")
    second = client.responses.create(model=slug, input="What is my name?", previous_response_id=first.id)
    assert second.output_text == "Your name is Ada." and second.previous_response_id == first.id
    sent = openai_upstream.last.json
    assert "previous_response_id" not in sent and sent["store"] is False
    assert sent["input"] == [
        {"type": "message", "role": "user", "content": "My name is Ada."},
        {"type": "message", "role": "assistant", "content": "Hello Ada."},
        {"type": "message", "role": "user", "content": "What is my name?"},
    ]


async def test_an_openai_compatible_provider_without_the_flag_is_translated(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)  # not api.openai.com
    slug = await platform.model([(provider, "up")])
    account = await platform.account("1")
    response = sdk(live_server, account.token).responses.create(model=slug, input="Hi")
    assert response.output_text == openai_upstream.behaviour.reply
    assert openai_upstream.last.path == "/v1/chat/completions"


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_native_answer_without_usage_is_billed_by_our_own_count(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream, streamed: bool
) -> None:
    slug = await native_model(platform, openai_upstream)
    account = await platform.account("1")
    openai_upstream.set(reply="one two three four", omit_usage=True)
    response = httpx.post(
        f"{live_server.api_base}/responses",
        json={"model": slug, "input": "Hi", "stream": streamed},
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = sse_events(response.text)[-1]["response"] if streamed else exact_json(response)
    assert body["status"] == "completed" and body["model"] == slug
    row = await usage_row(platform, response.headers["x-request-id"])
    delivered = sum(count_tokens(piece) for piece in reply_pieces("one two three four"))
    assert row.status == "success" and row.completion_tokens == delivered and row.prompt_tokens > 0
    assert nanos(body["usage"]["cost"]) == row.cost_nanos > 0
    assert body["usage"]["output_tokens"] == delivered


@pytest.mark.parametrize(
    ("base_url", "extra", "native"),
    [
        (None, {}, True),  # the kind's default: https://api.openai.com/v1
        ("https://api.openai.com/v1", {"responses_api": False}, False),
        ("https://api.deepseek.com/v1", {}, False),
        ("http://127.0.0.1:9/v1", {"responses_api": True}, True),
    ],
)
def test_which_openai_providers_speak_responses(
    base_url: str | None, extra: dict[str, Any], native: bool
) -> None:
    config = ProviderConfig(name="p", kind="openai", base_url=base_url, api_key="sk", extra=extra)
    assert OpenAICompatProvider(config).speaks_responses is native
    novita = ProviderConfig(name="n", kind="novita", base_url=base_url, api_key="sk", extra=extra)
    assert NovitaProvider(novita).speaks_responses is False


def read_then_hang_up(server: ServerProcess, token: str, body: bytes, events: int) -> bytes:
    """A client that reads ``events`` SSE events of ``POST /responses`` and then drops the connection."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    request = (
        f"POST /api/v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    sock.sendall(request)
    received = b""
    while received.count(b"data: ") < events:
        data = sock.recv(65536)
        if not data:
            break
        received += data
    sock.close()
    return received


async def test_a_client_leaving_a_native_stream_is_billed_what_was_delivered(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug = await native_model(platform, openai_upstream)
    account = await platform.account("1")
    reply = " ".join(f"w{i}" for i in range(20))
    openai_upstream.set(reply=reply, hang_after=6)  # two deltas, then the upstream goes silent
    body = json.dumps({"model": slug, "input": "Hi", "stream": True}).encode()
    received = await asyncio.to_thread(read_then_hang_up, live_server, account.token, body, 6)
    head = received.split(b"\r\n\r\n", 1)[0].decode()
    request_id = next(
        line.split(":", 1)[1].strip()
        for line in head.splitlines()
        if line.lower().startswith("x-request-id:")
    )
    assert await asyncio.to_thread(openai_upstream.wait_for_disconnect_sync, 1, 8.0)
    row = await usage_row(platform, request_id)
    delivered = sum(count_tokens(piece) for piece in reply_pieces(reply)[:2])
    assert row.status == "cancelled" and row.completion_tokens == delivered and row.prompt_tokens > 0
    assert row.cost_nanos == -(-(row.prompt_tokens * 1_000_000 + delivered * 2_000_000) // 1000)
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) - row.cost_nanos and balance.reserved_nanos == 0
