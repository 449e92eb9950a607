"""The embedded default — SQLite file, in-process limits, simulator — serves and bills exactly,
also under concurrency and with two server processes sharing the file."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelsnest import billing
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.conftest import _seed
from tests.gateway.helpers import chat_body, exact_json, expected_cost_nanos, nanos, sse_events
from tests.live import Platform, ServerProcess, start_server


@pytest.fixture(scope="module")
def live_database(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests import services

    url = services.clone_sqlite_database(sqlite_template, tmp_path_factory.mktemp("embedded"))
    asyncio.run(_seed(url))
    return url


@pytest.fixture(scope="module")
def second_server(live_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(live_database, tmp_path_factory.mktemp("second"))
    yield server
    server.stop()


async def test_plain_and_streamed_completions_on_sqlite(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    model = await platform.model([(await platform.provider("openai", openai_upstream.base_url), "m")])
    account = await platform.account("1")
    headers = {"Authorization": f"Bearer {account.token}"}
    plain = exact_json(
        httpx.post(f"{live_server.api_base}/chat/completions", json=chat_body(model), headers=headers)
    )
    first = expected_cost_nanos(
        plain["usage"]["prompt_tokens"], plain["usage"]["completion_tokens"], "0.001", "0.002"
    )
    assert nanos(plain["usage"]["cost"]) == first
    streamed = httpx.post(
        f"{live_server.api_base}/chat/completions",
        headers=headers,
        json=chat_body(model, stream=True, stream_options={"include_usage": True}),
    )
    usage = sse_events(streamed.text)[-2]["usage"]
    second = expected_cost_nanos(usage["prompt_tokens"], usage["completion_tokens"], "0.001", "0.002")
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) - first - second and balance.reserved_nanos == 0
    assert await platform.invariants(account.user_id) == []


async def test_the_simulator_answers_seeded_models_offline(
    live_server: ServerProcess, platform: Platform
) -> None:
    account = await platform.account("1")
    response = httpx.post(
        f"{live_server.api_base}/chat/completions",
        json=chat_body("deepseek", max_tokens=20),
        headers={"Authorization": f"Bearer {account.token}"},
    )
    assert response.status_code == 200 and response.headers["x-modelsnest-provider"] == "simulator"
    assert response.json()["system_fingerprint"] == "modelsnest-simulator"


async def test_two_processes_on_one_sqlite_file_never_overspend(
    live_server: ServerProcess,
    second_server: ServerProcess,
    platform: Platform,
    openai_upstream: FakeOpenAIUpstream,
) -> None:
    model = await platform.model(
        [(await platform.provider("openai", openai_upstream.base_url), "m")],
        input_price="0.01",
        output_price="0.02",
    )
    body = chat_body(model, "Count to five", max_tokens=5)
    openai_upstream.set(reply="one two three four five")
    probe = await platform.account("1")
    cost = nanos(
        exact_json(
            httpx.post(
                f"{live_server.api_base}/chat/completions",
                json=body,
                headers={"Authorization": f"Bearer {probe.token}"},
            )
        )["usage"]["cost"]
    )
    account = await platform.account("0")
    await billing.top_up(
        platform.sessions, user_id=account.user_id, amount_nanos=20 * cost, idempotency_key="t20"
    )
    headers = {"Authorization": f"Bearer {account.token}"}
    async with httpx.AsyncClient(timeout=60) as http:
        responses = await asyncio.gather(
            *[
                http.post(f"{server.api_base}/chat/completions", json=body, headers=headers)
                for server in [live_server, second_server] * 30
            ]
        )
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 402} and 1 <= statuses[200] <= 20
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == (20 - statuses[200]) * cost and balance.reserved_nanos == 0
    assert await platform.invariants(account.user_id) == []
