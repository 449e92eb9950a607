"""A stream is billed for what it delivered, however it ends: client gone, upstream broken,
upstream silent. The hold is always released and the usage log says what happened."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from modelsnest.providers.tokens import count_tokens
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import chat_body, exact_json, expected_cost_nanos, nanos, sse_events
from tests.live import Account, Platform, ServerProcess

pytestmark = pytest.mark.postgres

LONG_REPLY = " ".join(f"word{i}" for i in range(40))


def read_then_hang_up(server: ServerProcess, token: str, body: bytes, events: int) -> bytes:
    """A client that reads ``events`` SSE events and then drops the connection."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    request = (
        f"POST /api/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
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


async def last_usage(server: ServerProcess, account: Account) -> dict[str, object]:
    for _ in range(100):
        data = exact_json(
            httpx.get(f"{server.api_base}/usage", headers={"Authorization": f"Bearer {account.token}"})
        )["data"]
        if data:
            return data[0]  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    raise AssertionError("no usage row was written")


async def test_client_disconnect_bills_the_upstream_usage_it_drained(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "s")])
    account = await platform.account("1")
    openai_upstream.set(reply=LONG_REPLY, chunk_delay=0.02)
    body = httpx.Request("POST", "/", json=chat_body(model, stream=True)).content
    received = await asyncio.to_thread(read_then_hang_up, live_server, account.token, body, 3)
    assert b"word0" in received

    entry = await last_usage(live_server, account)
    assert entry["status"] == "cancelled" and entry["cancelled"] is True
    # The upstream kept going while we drained, so its own usage (the whole answer) is billed.
    assert entry["completion_tokens"] == len(LONG_REPLY.split(" "))
    cost = expected_cost_nanos(entry["prompt_tokens"], entry["completion_tokens"], "0.001", "0.002")  # type: ignore[arg-type]
    assert nanos(entry["cost_usd"]) == cost  # type: ignore[arg-type]
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) - cost and balance.reserved_nanos == 0
    assert await platform.invariants(account.user_id) == []


async def test_client_disconnect_from_a_silent_upstream_bills_delivered_tokens_and_cancels_it(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "s")])
    account = await platform.account("1")
    openai_upstream.set(reply=LONG_REPLY, hang_after=4)
    body = httpx.Request("POST", "/", json=chat_body(model, stream=True)).content
    received = await asyncio.to_thread(read_then_hang_up, live_server, account.token, body, 4)
    pieces = [
        e["choices"][0]["delta"].get("content") or ""
        for e in sse_events(received.split(b"\r\n\r\n", 1)[1].decode(errors="replace"))
        if isinstance(e, dict) and e.get("choices")
    ]
    delivered = sum(count_tokens(p) for p in pieces)
    assert "".join(pieces) == "word0 word1 word2"

    # The upstream connection is closed once the drain time (2 s in tests) is over.
    assert await asyncio.to_thread(openai_upstream.wait_for_disconnect_sync, 1, 8.0)
    entry = await last_usage(live_server, account)
    assert entry["status"] == "cancelled"
    # No upstream usage came: the delivered text is counted with our tokenizer and the prompt
    # is our own estimate.
    assert entry["completion_tokens"] == delivered > 0
    assert entry["prompt_tokens"] > 0
    cost = expected_cost_nanos(entry["prompt_tokens"], delivered, "0.001", "0.002")  # type: ignore[arg-type]
    assert nanos(entry["cost_usd"]) == cost  # type: ignore[arg-type]
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) - cost and balance.reserved_nanos == 0


async def test_upstream_breaking_mid_stream_sends_an_error_and_bills_what_was_delivered(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "s")])
    account = await platform.account("1")
    openai_upstream.set(reply=LONG_REPLY, drop_after=6)
    response = httpx.post(
        f"{live_server.api_base}/chat/completions",
        json=chat_body(model, stream=True),
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=20,
    )
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    assert events[-2]["error"]["code"] == "UPSTREAM_STREAM_BROKEN"
    pieces = [e["choices"][0]["delta"].get("content") or "" for e in events[:-2] if e["choices"]]
    assert "".join(pieces) == "word0 word1 word2 word3 word4"
    delivered = sum(count_tokens(p) for p in pieces)
    entry = await last_usage(live_server, account)
    assert entry["status"] == "partial" and entry["completion_tokens"] == delivered
    cost = expected_cost_nanos(entry["prompt_tokens"], delivered, "0.001", "0.002")  # type: ignore[arg-type]
    assert nanos(entry["cost_usd"]) == cost  # type: ignore[arg-type]
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - cost


async def test_a_stream_that_breaks_before_any_content_costs_nothing(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "s")])
    account = await platform.account("1")
    openai_upstream.set(drop_after=1)  # only the role chunk, then the connection dies
    response = httpx.post(
        f"{live_server.api_base}/chat/completions",
        json=chat_body(model, stream=True),
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=20,
    )
    assert sse_events(response.text)[-2]["error"]["code"] == "UPSTREAM_STREAM_BROKEN"
    entry = await last_usage(live_server, account)
    assert entry["status"] == "error" and nanos(entry["cost_usd"]) == 0  # type: ignore[arg-type]
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) and balance.reserved_nanos == 0
