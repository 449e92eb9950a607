"""Many parallel requests against a balance that covers only some of them (PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest

from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import chat_body, exact_json, nanos
from tests.live import Platform, ServerProcess

pytestmark = pytest.mark.postgres


async def test_100_parallel_requests_against_a_balance_for_30(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "c")], input_price="0.01", output_price="0.02")
    openai_upstream.set(reply="one two three four five", chunk_delay=0.0)
    body = chat_body(model, "Count to five", max_tokens=5)

    calibration = await platform.account("1")
    probe = exact_json(
        httpx.post(
            f"{live_server.api_base}/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {calibration.token}"},
        )
    )
    cost = nanos(probe["usage"]["cost"])
    assert cost > 0

    account = await platform.account("0")
    from modelsnest import billing

    await billing.top_up(
        platform.sessions, user_id=account.user_id, amount_nanos=30 * cost, idempotency_key="c30"
    )
    started = time.perf_counter()
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=100), timeout=60) as client:
        responses = await asyncio.gather(
            *[
                client.post(
                    f"{live_server.api_base}/chat/completions",
                    json=body,
                    headers={"Authorization": f"Bearer {account.token}"},
                )
                for _ in range(100)
            ]
        )
    elapsed = time.perf_counter() - started
    statuses = Counter(r.status_code for r in responses)
    ok = statuses[200]
    print(
        f"gateway: 100 parallel requests, balance for 30: {ok} ok, {statuses[402]} refused (402) in {elapsed:.2f}s"
    )
    assert set(statuses) <= {200, 402}
    assert 1 <= ok <= 30
    assert all(r.json()["error"]["code"] == "INSUFFICIENT_CREDITS" for r in responses if r.status_code == 402)
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == 30 * cost - ok * cost  # only the successes were charged
    assert balance.reserved_nanos == 0
    assert await platform.invariants(account.user_id) == []
