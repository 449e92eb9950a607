"""``GET /metrics``: Prometheus text format with every paid request counted by route, model,
provider and outcome, the ledger's holds and operation latency, upstream latency and errors,
refusals by code — one count per request whichever worker served it; optionally behind a
token. And the request id a client sees is the one the upstream received."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.gateway.helpers import chat_body
from tests.live import Platform, ServerProcess, start_server

pytestmark = pytest.mark.postgres

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: ServerProcess, **headers: str) -> Samples:
    response = httpx.get(f"{server.base_url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def chat(server: ServerProcess, token: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(
        f"{server.api_base}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


async def test_each_paid_request_is_counted_once_with_its_model_provider_and_outcome(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "up-model")])
    account = await platform.account("5")
    before = scrape(live_server)

    assert chat(live_server, account.token, chat_body(model)).status_code == 200
    streamed = chat(live_server, account.token, chat_body(model, stream=True))
    assert streamed.status_code == 200
    assert chat(live_server, "ptr_not-a-key", chat_body(model)).status_code == 401
    after = scrape(live_server)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    chat_route = {"route": "/api/v1/chat/completions", "method": "POST"}
    assert delta("modelsnest_http_requests_total", **chat_route, status="200") == 2
    assert delta("modelsnest_http_requests_total", **chat_route, status="401") == 1
    assert delta("modelsnest_http_request_duration_seconds_count", route="/api/v1/chat/completions") == 3
    outcome = {"endpoint": "chat", "model": model, "provider": provider}
    assert delta("modelsnest_gateway_requests_total", **outcome, status="success") == 2
    assert delta("modelsnest_gateway_request_duration_seconds_count", endpoint="chat", model=model) == 2
    assert delta("modelsnest_time_to_first_token_seconds_count", model=model) == 1
    assert delta("modelsnest_upstream_duration_seconds_count", provider=provider) == 2
    assert delta("modelsnest_ledger_operation_seconds_count", operation="hold") == 2
    assert delta("modelsnest_ledger_operation_seconds_count", operation="settle") == 2
    assert value(after, "modelsnest_holds_open") == 0  # every hold was settled
    assert delta("modelsnest_api_errors_total", status="401") == 1
    # The scrape itself is a route like any other, and raw paths never become labels.
    assert value(after, "modelsnest_http_requests_total", route="/metrics") >= 1
    assert not any("ptr_" in str(labels) for _, labels in after)


async def test_a_failing_upstream_is_counted_by_provider_and_error(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    with FakeOpenAIUpstream() as broken:
        broken.set(status=500)
        failing = await platform.provider("openai", broken.base_url)
        healthy = await platform.provider("openai", openai_upstream.base_url)
        model = await platform.model([(failing, "a", 1), (healthy, "b", 2)])
        account = await platform.account("5")
        before = scrape(live_server)
        assert chat(live_server, account.token, chat_body(model)).status_code == 200
        after = scrape(live_server)

    assert (
        value(after, "modelsnest_upstream_errors_total", provider=failing)
        - value(before, "modelsnest_upstream_errors_total", provider=failing)
        == 1
    )
    assert value(after, "modelsnest_circuit_open", provider=failing) == 0  # one failure: still closed
    assert value(after, "modelsnest_gateway_requests_total", model=model, provider=healthy) == 1


async def test_the_upstream_receives_the_request_id_the_client_sees(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "up-model")])
    account = await platform.account("5")
    for stream in (False, True):
        response = chat(live_server, account.token, chat_body(model, stream=stream))
        assert response.status_code == 200
        assert response.headers["x-request-id"].startswith("req_")
        received = {k.lower(): v for k, v in openai_upstream.last.headers.items()}
        assert received["x-request-id"] == response.headers["x-request-id"]


@pytest.fixture(scope="module")
def guarded_server(live_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        live_database, tmp_path_factory.mktemp("guarded"), extra_env={"MODELSNEST_METRICS_TOKEN": "scrape-me"}
    )
    yield server
    server.stop()


def test_with_a_token_configured_only_its_bearer_may_scrape(guarded_server: ServerProcess) -> None:
    url = f"{guarded_server.base_url}/metrics"
    assert httpx.get(url, timeout=10).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    samples = scrape(guarded_server, authorization="Bearer scrape-me")
    assert value(samples, "modelsnest_http_requests_total", route="/metrics", status="401") == 2


async def test_two_workers_report_one_sum_from_whichever_answers_the_scrape(
    live_database: str, tmp_path: Path, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "up-model")])
    account = await platform.account("5")
    server = start_server(live_database, tmp_path / "two", workers=2)
    try:
        served = set()
        for _ in range(24):  # new connections: the kernel spreads them over both workers
            response = chat(server, account.token, chat_body(model))
            assert response.status_code == 200
            served.add(response.headers.get("x-request-id"))
        scrapes = [scrape(server) for _ in range(6)]
    finally:
        server.stop()
    counted = {value(s, "modelsnest_gateway_requests_total", model=model, status="success") for s in scrapes}
    assert counted == {24}
    assert len(served) == 24
