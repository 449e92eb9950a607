"""The agent APIs on the embedded default (SQLite file, the seeded catalog, the simulator):
Responses with a stored conversation, streamed and retrieved; legacy completions; the seeded
rerank models; ``GET /api/v1/key``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.gateway.conftest import _seed
from tests.gateway.helpers import exact_json, nanos, sdk
from tests.live import Platform, ServerProcess


@pytest.fixture(scope="module")
def live_database(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    from tests import services

    url = services.clone_sqlite_database(sqlite_template, tmp_path_factory.mktemp("agents"))
    asyncio.run(_seed(url))
    return url


async def test_agent_apis_on_the_seeded_simulator(live_server: ServerProcess, platform: Platform) -> None:
    account = await platform.account("2")
    client = sdk(live_server, account.token)

    first = client.responses.create(model="deepseek", instructions="Be brief.", input="My name is Ada.")
    assert first.status == "completed" and first.output_text
    with client.responses.stream(
        model="deepseek", input="What is my name?", previous_response_id=first.id
    ) as s:
        kinds = [event.type for event in s]
        second = s.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert second.previous_response_id == first.id and second.output_text
    assert client.responses.retrieve(second.id).output_text == second.output_text

    completion = client.completions.create(model="deepseek", prompt="Once upon a time", max_tokens=20)
    assert completion.object == "text_completion" and completion.choices[0].text

    headers = {"Authorization": f"Bearer {account.token}"}
    for model in ("rerank-v3.5", "jina-reranker-v2-base-multilingual"):
        ranked = httpx.post(
            f"{live_server.api_base}/rerank",
            headers=headers,
            json={
                "model": model,
                "query": "capital of France",
                "documents": ["Berlin, Germany", "Paris, France"],
            },
        )
        assert ranked.status_code == 200, ranked.text
        assert exact_json(ranked)["results"][0]["index"] == 1
    key = exact_json(httpx.get(f"{live_server.api_base}/key", headers=headers))["data"]
    balance = await platform.balance(account.user_id)
    assert nanos(key["usage"]) == nanos(2) - balance.balance_nanos > 0
    assert balance.reserved_nanos == 0 and await platform.invariants(account.user_id) == []
