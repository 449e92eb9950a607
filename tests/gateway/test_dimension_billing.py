"""Requests are billed by the dimensions their upstream reports, exactly to the nano-dollar,
through the whole pipeline (live server, fake upstreams speaking the real wire formats):
cached, cache-write, reasoning and audio tokens, context tiers and image size × quality,
plain and streamed; a stream cut mid-way bills what was delivered. The response's billing
object, ``usage.cost_details``, ``/generation`` and the usage row all show the breakdown."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from modelsnest.providers.tokens import count_tokens
from tests.fakes.anthropic_upstream import FakeAnthropicUpstream
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.server import reply_pieces
from tests.gateway.helpers import chat_body, exact_json, nanos, sdk, sse_events, usage_row
from tests.live import Account, Platform, ServerProcess

pytestmark = pytest.mark.postgres

# input $1/1M tokens... written per 1K: input 0.001, output 0.002 and further dimensions.
OPENAI_DIMENSIONS = {
    "cached_input": "0.0005",
    "reasoning": "0.004",
    "audio_input": "0.01",
    "audio_output": "0.02",
}
ANTHROPIC_DIMENSIONS = {"cached_input": "0.0003", "cache_write": "0.00375", "cache_write_1h": "0.006"}


def post(
    server: ServerProcess, account: Account, body: dict[str, Any], path: str = "chat/completions"
) -> httpx.Response:
    return httpx.post(
        f"{server.api_base}/{path}",
        json=body,
        headers={"Authorization": f"Bearer {account.token}"},
        timeout=30,
    )


def stream(server: ServerProcess, account: Account, body: dict[str, Any]) -> tuple[str, list[Any]]:
    response = post(server, account, {**body, "stream": True, "stream_options": {"include_usage": True}})
    assert response.status_code == 200, response.text
    return response.headers["x-request-id"], sse_events(response.text)


def breakdown(lines: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """dimension → (quantity, exact subtotal in nanos)."""
    return {line["dimension"]: (line["quantity"], nanos(line["cost"])) for line in lines}


def generation(server: ServerProcess, account: Account, request_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.api_base}/generation",
        params={"id": request_id},
        headers={"Authorization": f"Bearer {account.token}"},
    )
    assert response.status_code == 200, response.text
    return exact_json(response)  # type: ignore[no-any-return]


# 2 000 prompt tokens: 1 024 cached, 100 audio; 39 completion tokens: 30 reasoning, 5 audio, 4 text.
OPENAI_EXPECTED = {
    "input": (876, 876_000),
    "cached_input": (1_024, 512_000),
    "audio_input": (100, 1_000_000),
    "output": (4, 8_000),
    "reasoning": (30, 120_000),
    "audio_output": (5, 100_000),
}
OPENAI_COST = 2_616_000


@pytest.mark.parametrize("streamed", [False, True])
async def test_openai_compatible_usage_details_are_billed_by_dimension(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream, streamed: bool
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "up")], dimensions=OPENAI_DIMENSIONS)
    account = await platform.account("1")
    openai_upstream.set(
        reply="one two three four",
        prompt_tokens=2_000,
        cached_tokens=1_024,
        audio_input_tokens=100,
        reasoning_tokens=30,
        audio_output_tokens=5,
    )
    if streamed:
        request_id, events = stream(live_server, account, chat_body(model))
        final = next(e for e in events if isinstance(e, dict) and e.get("usage"))
        usage, billing = final["usage"], final["billing"]
    else:
        response = post(live_server, account, chat_body(model))
        assert response.status_code == 200, response.text
        request_id, body = response.headers["x-request-id"], exact_json(response)
        usage, billing = body["usage"], body["billing"]
        assert response.headers["x-modelsnest-cost-usd"] == "0.002616"
    assert nanos(usage["cost"]) == nanos(billing["cost_usd"]) == OPENAI_COST
    assert {key: nanos(value) for key, value in usage["cost_details"].items()} == {
        key: cost for key, (_, cost) in OPENAI_EXPECTED.items()
    }
    assert breakdown(billing["breakdown"]) == OPENAI_EXPECTED
    assert usage["prompt_tokens_details"]["cached_tokens"] == 1_024  # the upstream's, passed through

    row = await usage_row(platform, request_id)
    assert (row.cost_nanos, row.prompt_tokens, row.completion_tokens) == (OPENAI_COST, 2_000, 39)
    assert (row.cached_tokens, row.audio_input_tokens, row.reasoning_tokens, row.audio_output_tokens) == (
        1_024,
        100,
        30,
        5,
    )
    assert row.price_version_id == billing["price_version_id"] is not None
    assert row.upstream_cost_nanos is None  # this route has no cost price
    record = generation(live_server, account, request_id)
    assert breakdown(record["cost_breakdown"]) == OPENAI_EXPECTED
    assert record["prompt_tokens_details"] == {
        "cached_tokens": 1_024,
        "cache_write_tokens": 0,
        "audio_tokens": 100,
    }
    assert record["completion_tokens_details"] == {"reasoning_tokens": 30, "audio_tokens": 5}
    assert "upstream_cost" not in str(record)  # the operator's cost is never shown to customers
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - OPENAI_COST


async def test_the_official_sdk_reads_the_breakdown_as_extra_fields(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "up")], dimensions=OPENAI_DIMENSIONS)
    account = await platform.account("1")
    openai_upstream.set(reply="one two three four", prompt_tokens=2_000, cached_tokens=1_024)
    completion = sdk(live_server, account.token).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hi"}]
    )
    assert completion.usage is not None and completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 1_024
    extra = completion.model_extra or {}
    assert [line["dimension"] for line in extra["billing"]["breakdown"]] == [
        "input",
        "cached_input",
        "output",
    ]


@pytest.mark.parametrize("streamed", [False, True])
async def test_anthropic_cache_reads_and_writes_are_billed_at_their_own_prices(
    live_server: ServerProcess, platform: Platform, anthropic_upstream: FakeAnthropicUpstream, streamed: bool
) -> None:
    provider = await platform.provider("anthropic", anthropic_upstream.base_url, api_key="sk-ant")
    model = await platform.model(
        [(provider, "claude")], input_price="0.003", output_price="0.015", dimensions=ANTHROPIC_DIMENSIONS
    )
    account = await platform.account("1")
    # 5 000 input tokens in OpenAI's convention; Anthropic reports input_tokens = 500 of them.
    anthropic_upstream.set(
        reply="one two three",
        prompt_tokens=5_000,
        cached_tokens=3_000,
        cache_write_tokens=1_500,
        cache_write_1h_tokens=500,
    )
    expected = {
        "input": (500, 1_500_000),
        "cached_input": (3_000, 900_000),  # 10 % of input
        "cache_write": (1_000, 3_750_000),  # 125 %
        "cache_write_1h": (500, 3_000_000),  # 200 %
        "output": (3, 45_000),
    }
    if streamed:
        request_id, events = stream(live_server, account, chat_body(model, max_tokens=100))
        final = next(e for e in events if isinstance(e, dict) and e.get("usage"))
        usage, billing = final["usage"], final["billing"]
    else:
        response = post(live_server, account, chat_body(model, max_tokens=100))
        assert response.status_code == 200, response.text
        request_id, body = response.headers["x-request-id"], exact_json(response)
        usage, billing = body["usage"], body["billing"]
    assert usage["prompt_tokens"] == 5_000
    assert usage["prompt_tokens_details"] == {"cached_tokens": 3_000, "cache_write_tokens": 1_500}
    assert breakdown(billing["breakdown"]) == expected
    assert nanos(usage["cost"]) == 9_195_000
    row = await usage_row(platform, request_id)
    assert (row.cost_nanos, row.cached_tokens, row.cache_write_tokens) == (9_195_000, 3_000, 1_500)
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - 9_195_000


async def test_a_long_request_is_billed_at_its_context_tier(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    tiers = {
        "input>1000": "0.003",
        "output>1000": "0.004",
        "cached_input": "0.0001",
        "cached_input>1000": "0.0002",
    }
    model = await platform.model([(provider, "up")], dimensions=tiers)
    account = await platform.account("1")
    openai_upstream.set(reply="one two", prompt_tokens=1_500, cached_tokens=500)
    long = exact_json(post(live_server, account, chat_body(model)))
    lines = {line["dimension"]: line for line in long["billing"]["breakdown"]}
    assert {name: (nanos(line["cost"]), line["above_input_tokens"]) for name, line in lines.items()} == {
        "input": (1_000 * 3_000, 1_000),
        "cached_input": (500 * 200, 1_000),
        "output": (2 * 4_000, 1_000),
    }
    assert nanos(long["usage"]["cost"]) == 3_108_000
    openai_upstream.set(reply="one two", prompt_tokens=1_000, cached_tokens=500)  # not above 1 000
    short = exact_json(post(live_server, account, chat_body(model)))
    assert nanos(short["usage"]["cost"]) == 500 * 1_000 + 500 * 100 + 2 * 2_000
    assert all("above_input_tokens" not in line for line in short["billing"]["breakdown"])


async def test_a_stream_cut_mid_way_bills_what_was_delivered(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model([(provider, "up")], dimensions=OPENAI_DIMENSIONS)
    account = await platform.account("1")
    # The connection drops after 4 events (role + 3 words): the upstream never reports its usage.
    reply = " ".join(f"w{i}" for i in range(20))
    openai_upstream.set(reply=reply, cached_tokens=1_024, drop_after=4)
    response = post(live_server, account, {**chat_body(model), "stream": True})
    request_id = response.headers["x-request-id"]
    row = await usage_row(platform, request_id)
    delivered = sum(count_tokens(piece) for piece in reply_pieces(reply)[:3])
    assert row.status == "partial" and row.completion_tokens == delivered
    # Billed as delivered: our prompt estimate at the input price, the words sent at the output
    # price; the cache discount the upstream never confirmed is not given.
    assert row.cached_tokens == 0
    assert row.cost_nanos == -(-(row.prompt_tokens * 1_000_000 + delivered * 2_000_000) // 1000)
    assert [line["dimension"] for line in row.cost_breakdown] == ["input", "output"]
    assert (await platform.balance(account.user_id)).balance_nanos == nanos(1) - row.cost_nanos


IMAGE_PRICES = {
    "image:1024x1024/low": "0.011",
    "image:1024x1024/high": "0.167",
    "image:1536x1024/high": "0.25",
}


async def test_images_are_held_and_billed_by_size_and_quality(
    live_server: ServerProcess, platform: Platform, openai_upstream: FakeOpenAIUpstream
) -> None:
    provider = await platform.provider("openai", openai_upstream.base_url)
    model = await platform.model(
        [(provider, "gpt-image-1")],
        endpoint="images",
        category="image",
        unit="per_image",
        input_price="0.042",
        output_price="0",
        dimensions=IMAGE_PRICES,
    )
    account = await platform.account("2")
    spent = 0

    def generate(**body: Any) -> httpx.Response:
        return post(
            live_server, account, {"model": model, "prompt": "a lighthouse", **body}, "images/generations"
        )

    wide = generate(size="1536x1024", quality="high", n=2, response_format="b64_json")
    assert wide.status_code == 200, wide.text
    shown = exact_json(wide)
    assert nanos(shown["usage"]["cost"]) == 500_000_000
    [line] = shown["billing"]["breakdown"]
    assert (line["variant"], line["quantity"], nanos(line["unit_price"])) == (
        "1536x1024/high",
        2,
        250_000_000,
    )
    spent += 500_000_000

    # No quality: the highest is held; the upstream says it made "low", which is billed.
    openai_upstream.set(image_quality="low")
    low = generate(size="1024x1024", response_format="b64_json")
    assert nanos(exact_json(low)["usage"]["cost"]) == 11_000_000
    spent += 11_000_000
    # An upstream that does not say is billed the held (highest) price of the size.
    openai_upstream.set(image_quality=None)
    unknown = generate(size="1024x1024", response_format="b64_json")
    assert nanos(exact_json(unknown)["usage"]["cost"]) == 167_000_000
    spent += 167_000_000
    row = await usage_row(platform, unknown.headers["x-request-id"])
    assert row.meta == {"size": "1024x1024", "quality": "auto"} and row.units == 1

    calls = openai_upstream.calls
    for body, param in (
        ({"size": "512x512"}, "size"),
        ({"size": "1024x1024", "quality": "ultra"}, "quality"),
    ):
        refused = generate(**body)
        assert refused.status_code == 400, refused.text
        error = refused.json()["error"]
        assert (error["code"], error["param"]) == ("IMAGE_VARIANT_NOT_PRICED", param)
        assert "1024x1024/high" in error["message"]
    assert openai_upstream.calls == calls  # refused before any upstream call
    balance = await platform.balance(account.user_id)
    assert (balance.balance_nanos, balance.reserved_nanos) == (nanos(2) - spent, 0)


async def test_models_list_shows_the_dimensions(live_server: ServerProcess, platform: Platform) -> None:
    account = await platform.account("1")
    listed = httpx.get(f"{live_server.api_base}/models", headers={"Authorization": f"Bearer {account.token}"})
    models = {m["id"]: m for m in exact_json(listed)["data"]}
    sonnet = models["claude-sonnet-4"]["pricing"]
    assert (sonnet["input"], sonnet["cached_input"], sonnet["cache_write"], sonnet["cache_write_1h"]) == (
        Decimal("0.003"),
        Decimal("0.0003"),
        Decimal("0.00375"),
        Decimal("0.006"),
    )
    assert models["gemini-2.5-pro"]["pricing"]["tiers"][0]["above_input_tokens"] == 200_000
    assert {"size": "1536x1024", "quality": "high", "price": Decimal("0.25")} in models["gpt-image-1"][
        "pricing"
    ]["images"]
    assert isinstance(models["deepseek"]["pricing"]["version_id"], int)
