"""POST /api/v1/completions (legacy text completions) with the official openai SDK's
``client.completions.create``, served by a chat upstream: the ``text_completion`` object,
its stream chunks and final usage chunk, exact costs, clear 400s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.server import reply_pieces
from tests.gateway.helpers import exact_json, expected_cost_nanos, nanos, sdk, sse_events, usage_row
from tests.live import Account, Platform, ServerProcess

pytestmark = pytest.mark.postgres


async def _setup(platform: Platform, upstream: FakeOpenAIUpstream) -> tuple[str, Account]:
    provider = await platform.provider("openai", upstream.base_url)
    slug = await platform.model([(provider, "up-text")], input_price="0.0015", output_price="0.002")
    return slug, await platform.account("5")


async def test_completion_is_a_text_completion_billed_exactly(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    raw = sdk(live_server, account.token).completions.with_raw_response.create(
        model=slug, prompt="Once upon a time", max_tokens=50, temperature=0.5, stop=["\n"]
    )
    completion = raw.parse()
    body = exact_json(raw.http_response)

    assert completion.object == "text_completion" and completion.model == slug
    assert completion.choices[0].text == openai_upstream.behaviour.reply
    assert completion.choices[0].finish_reason == "stop" and completion.choices[0].index == 0
    sent = openai_upstream.last.json
    assert sent["messages"] == [{"role": "user", "content": "Once upon a time"}]
    assert sent["max_tokens"] == 50 and sent["temperature"] == 0.5 and sent["stop"] == ["\n"]
    assert completion.usage is not None
    cost = expected_cost_nanos(
        completion.usage.prompt_tokens, completion.usage.completion_tokens, "0.0015", "0.002"
    )
    assert nanos(body["usage"]["cost"]) == cost == nanos(body["billing"]["cost_usd"])
    row = await usage_row(platform, raw.headers["x-request-id"])
    assert row.endpoint == "completions" and row.cost_nanos == cost
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(5) - cost
    echoed = sdk(live_server, account.token).completions.create(model=slug, prompt=["Echo: "], echo=True)
    assert echoed.choices[0].text == "Echo: " + openai_upstream.behaviour.reply


async def test_streamed_completion_chunks_and_usage(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    stream = sdk(live_server, account.token).completions.create(
        model=slug, prompt="Count", stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    texts = [c.choices[0].text for c in chunks if c.choices]
    assert "".join(texts) == openai_upstream.behaviour.reply
    assert all(c.object == "text_completion" for c in chunks)
    assert chunks[-2].choices[0].finish_reason == "stop"
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens == len(reply_pieces(openai_upstream.behaviour.reply))

    raw = httpx.post(
        f"{live_server.api_base}/completions",
        json={"model": slug, "prompt": "Count", "stream": True, "stream_options": {"include_usage": True}},
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=30,
    )
    events = sse_events(raw.text)
    assert events[-1] == "[DONE]"
    usage = events[-2]["usage"]
    cost = expected_cost_nanos(usage["prompt_tokens"], usage["completion_tokens"], "0.0015", "0.002")
    assert nanos(usage["cost"]) == cost
    row = await usage_row(platform, raw.headers["x-request-id"])
    assert row.cost_nanos == cost and row.streamed


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "M"}, "prompt"),
        ({"model": "M", "prompt": [1, 2, 3]}, "prompt"),
        ({"model": "M", "prompt": ["a", "b"]}, "prompt"),
        ({"model": "M", "prompt": "x", "suffix": "y"}, "suffix"),
        ({"model": "M", "prompt": "x", "max_tokens": 0}, "max_tokens"),
        ({"prompt": "x"}, "model"),
    ],
)
async def test_malformed_completions_are_400s(
    body: dict[str, Any],
    param: str,
    live_server: ServerProcess,
    platform: Platform,
    openai_upstream: FakeOpenAIUpstream,
) -> None:
    slug, account = await _setup(platform, openai_upstream)
    if body.get("model") == "M":
        body = {**body, "model": slug}
    response = httpx.post(
        f"{live_server.api_base}/completions", json=body, headers={"Authorization": f"Bearer {account.token}"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert openai_upstream.calls == 0
