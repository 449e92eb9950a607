"""Per-key RPM/TPM, shared by every replica through Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import chat_body
from tests.live import Platform, ServerProcess, start_server

pytestmark = pytest.mark.postgres


def post(server: ServerProcess, token: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(
        f"{server.api_base}/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}
    )


async def test_rpm_limit_is_429_with_retry_after_and_headers(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    model = await platform.model([(await platform.provider("openai", openai_upstream.base_url), "r")])
    account = await platform.account("1", rpm_limit=3)
    first = post(live_server, account.token, chat_body(model))
    assert first.headers["x-ratelimit-limit-requests"] == "3"
    assert first.headers["x-ratelimit-remaining-requests"] == "2"
    assert [post(live_server, account.token, chat_body(model)).status_code for _ in range(2)] == [200, 200]
    limited = post(live_server, account.token, chat_body(model))
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(limited.headers["retry-after"]) >= 1
    balance = await platform.balance(account.user_id)
    assert balance.reserved_nanos == 0 and await platform.invariants(account.user_id) == []


async def test_tpm_limit_counts_the_tokens_used(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    model = await platform.model([(await platform.provider("openai", openai_upstream.base_url), "t")])
    account = await platform.account("1", tpm_limit=20)
    first = post(live_server, account.token, chat_body(model))
    assert first.status_code == 200 and first.json()["usage"]["total_tokens"] >= 20
    second = post(live_server, account.token, chat_body(model))
    assert second.status_code == 429 and "tokens per minute" in second.json()["error"]["message"]


async def test_spend_limit_stops_a_key(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    model = await platform.model(
        [(await platform.provider("openai", openai_upstream.base_url), "t")], max_output_tokens=10
    )
    account = await platform.account("1", spend_limit_nanos=1)
    limited = post(live_server, account.token, chat_body(model))
    assert limited.status_code == 429 and "spend limit" in limited.json()["error"]["message"]


@pytest.fixture
def two_replicas(
    live_database: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {"MODELSNEST_REDIS_URL": redis_url, "MODELSNEST_REDIS_KEY_PREFIX": redis_prefix}
    one = start_server(live_database, tmp_path_factory.mktemp("r1"), extra_env=env)
    try:
        two = start_server(live_database, tmp_path_factory.mktemp("r2"), extra_env=env)
    except BaseException:
        one.stop()
        raise
    yield one, two
    one.stop()
    two.stop()


@pytest.mark.redis
async def test_rpm_limit_is_shared_by_two_server_processes_through_redis(
    two_replicas: tuple[ServerProcess, ServerProcess], platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    model = await platform.model([(await platform.provider("openai", openai_upstream.base_url), "r")])
    account = await platform.account("1", rpm_limit=4)
    one, two = two_replicas
    statuses = await asyncio.gather(
        *[
            asyncio.to_thread(post, server, account.token, chat_body(model))
            for server in (one, two, one, two, one, two)
        ]
    )
    codes = sorted(r.status_code for r in statuses)
    assert codes == [200, 200, 200, 200, 429, 429]
    balance = await platform.balance(account.user_id)
    assert balance.reserved_nanos == 0 and await platform.invariants(account.user_id) == []
