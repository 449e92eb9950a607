"""Fallback across routes before the first byte, the circuit breaker, and 502/504 when every
route failed — none of which charges anything."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from modelsnest.catalog.providers import list_providers
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import chat_body, exact_json, expected_cost_nanos, nanos
from tests.live import Platform, ServerProcess, free_port

pytestmark = pytest.mark.postgres


def post(server: ServerProcess, token: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(
        f"{server.api_base}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


@pytest.mark.parametrize("failure", ["500", "429", "timeout", "refused"])
async def test_a_failing_route_falls_back_to_the_next(
    failure: str, live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    with FakeOpenAIUpstream() as broken:
        if failure == "refused":
            first = await platform.provider("openai", f"http://127.0.0.1:{free_port()}/v1")
        elif failure == "timeout":
            broken.set(headers_delay=3.0)
            # Streams give up at the first byte, non-streamed answers at the total timeout.
            first = await platform.provider(
                "openai", broken.base_url, first_byte_timeout=0.5, total_timeout=1.0
            )
        else:
            broken.set(status=int(failure))
            first = await platform.provider("openai", broken.base_url)
        second = await platform.provider("openai", openai_upstream.base_url)
        model = await platform.model([(first, "a", 1), (second, "b", 2)])
        account = await platform.account("1")

        for stream in (False, True):
            response = post(live_server, account.token, chat_body(model, stream=stream))
            assert response.status_code == 200, response.text
            assert response.headers["x-modelsnest-provider"] == second
        if failure in ("500", "429", "timeout"):
            assert broken.calls >= 1
    assert openai_upstream.calls == 2
    assert await platform.invariants(account.user_id) == []


async def test_all_routes_failing_is_a_generic_502_and_free(
    live_server: ServerProcess, platform: Platform
) -> None:
    with FakeOpenAIUpstream() as one, FakeOpenAIUpstream() as two:
        one.set(status=503)
        two.set(status=500, error_body={"error": {"message": "database on fire", "type": "server_error"}})
        model = await platform.model(
            [
                (await platform.provider("openai", one.base_url), "a"),
                (await platform.provider("openai", two.base_url), "b"),
            ]
        )
        account = await platform.account("1")
        for stream in (False, True):
            response = post(live_server, account.token, chat_body(model, stream=stream))
            assert response.status_code == 502
            error = response.json()["error"]
            # the upstream's own words (maybe about the operator's account) go to our log only
            assert error["code"] == "UPSTREAM_ERROR" and "database on fire" not in response.text
            assert "not been charged" in error["message"]
    balance = await platform.balance(account.user_id)
    assert balance.balance_nanos == nanos(1) and balance.reserved_nanos == 0
    usage = exact_json(
        httpx.get(f"{live_server.api_base}/usage", headers={"Authorization": f"Bearer {account.token}"})
    )
    assert [e["status"] for e in usage["data"]] == ["error", "error"]
    assert all(nanos(e["cost_usd"]) == 0 for e in usage["data"])


async def test_all_routes_timing_out_is_504(live_server: ServerProcess, platform: Platform) -> None:
    with FakeOpenAIUpstream() as slow:
        slow.set(headers_delay=3.0)
        model = await platform.model(
            [
                (
                    await platform.provider(
                        "openai", slow.base_url, first_byte_timeout=0.3, total_timeout=0.6
                    ),
                    "a",
                )
            ]
        )
        account = await platform.account("1")
        response = post(live_server, account.token, chat_body(model))
    assert response.status_code == 504 and response.json()["error"]["code"] == "UPSTREAM_TIMEOUT"
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1)


async def test_circuit_breaker_skips_a_failing_provider_and_shows_its_health(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    with FakeOpenAIUpstream() as flaky:
        flaky.set(status=500)
        bad = await platform.provider("openai", flaky.base_url)
        good = await platform.provider("openai", openai_upstream.base_url)
        model = await platform.model([(bad, "a", 1), (good, "b", 2)])
        account = await platform.account("1")
        for _ in range(3):  # the test server opens the circuit after 3 failures in a row
            assert post(live_server, account.token, chat_body(model)).status_code == 200
        failed_calls = flaky.calls
        assert failed_calls == 3
        for _ in range(3):
            response = post(live_server, account.token, chat_body(model))
            assert response.status_code == 200 and response.headers["x-modelsnest-provider"] == good
        assert flaky.calls == failed_calls  # skipped while the circuit is open
    for _ in range(50):
        health = {p.name: p for p in await list_providers(platform.sessions)}[bad]
        if health.circuit_open_until is not None:
            break
        await asyncio.sleep(0.1)
    assert health.consecutive_failures >= 3 and health.circuit_open_until is not None
    assert health.last_error and "500" in health.last_error


async def test_weights_spread_load_within_a_priority(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    with FakeOpenAIUpstream() as other:
        a = await platform.provider("openai", openai_upstream.base_url)
        b = await platform.provider("openai", other.base_url)
        model = await platform.model([(a, "x", 5, 1), (b, "y", 5, 1)])
        account = await platform.account("1")
        served = {
            post(live_server, account.token, chat_body(model)).headers["x-modelsnest-provider"]
            for _ in range(20)
        }
    assert served == {a, b}


async def test_the_cost_follows_the_price_when_a_fallback_serves(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    dead = await platform.provider("openai", f"http://127.0.0.1:{free_port()}/v1")
    live = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(dead, "a"), (live, "b")], input_price="0.01", output_price="0.03")
    account = await platform.account("2")
    body = exact_json(post(live_server, account.token, chat_body(model)))
    usage = body["usage"]
    cost = expected_cost_nanos(usage["prompt_tokens"], usage["completion_tokens"], "0.01", "0.03")
    assert nanos(usage["cost"]) == cost
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(2) - cost


async def test_an_open_circuit_is_shared_by_every_replica(
    live_server: ServerProcess,
    live_database: str,
    platform: Platform,
    openai_upstream: FakeOpenAIUpstream,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from tests.live import start_server

    other = start_server(live_database, tmp_path_factory.mktemp("replica"))
    try:
        with FakeOpenAIUpstream() as flaky:
            flaky.set(status=500)
            bad = await platform.provider("openai", flaky.base_url)
            good = await platform.provider("openai", openai_upstream.base_url)
            model = await platform.model([(bad, "a", 1), (good, "b", 2)])
            account = await platform.account("1")
            for _ in range(3):  # trips the breaker on the first replica only
                assert post(live_server, account.token, chat_body(model)).status_code == 200
            for _ in range(50):  # the open circuit is recorded, then read by the other replica
                health = {p.name: p for p in await list_providers(platform.sessions)}[bad]
                if health.circuit_open_until is not None:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            calls = flaky.calls
            for _ in range(3):
                response = post(other, account.token, chat_body(model))
                assert response.status_code == 200 and response.headers["x-modelsnest-provider"] == good
            assert flaky.calls == calls  # the second replica never tried the failing provider
    finally:
        other.stop()
