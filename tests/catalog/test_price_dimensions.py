"""Billing by price dimension (``pricing.bill``): every dimension's exact subtotal, one
rounding of the sum, fallbacks for dimensions not priced apart, context tiers, image
variants, the hold as an upper bound, and how a bill is shown."""

from __future__ import annotations

from fractions import Fraction

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelsnest.catalog.price_input import parse_price
from modelsnest.catalog.pricing import (
    CostLine,
    bill,
    bill_images,
    bill_units,
    billing_json,
    chat_cost,
    cost_details_json,
    hold_cost,
    price_json,
)
from modelsnest.catalog.spec import load_catalog_spec
from modelsnest.catalog.types import PriceInfo
from modelsnest.errors import InvalidRequest
from modelsnest.money import usd_str
from modelsnest.providers.types import Usage

SPEC = load_catalog_spec()


def seeded(slug: str) -> PriceInfo:
    return SPEC.model(slug).price.info()


def lines(price: PriceInfo, usage: Usage) -> dict[str, tuple[int, int, str]]:
    """dimension → (quantity, exact nanos, priced as), for the lines of the bill."""
    found = {}
    for line in bill(price, usage).lines:
        assert line.exact_nanos.denominator == 1, line  # these examples are whole nanos
        found[line.dimension] = (line.quantity, int(line.exact_nanos), line.priced_as)
    return found


def test_anthropic_cache_reads_and_writes_are_each_billed_at_their_own_price() -> None:
    sonnet = seeded("claude-sonnet-4")  # $3 in, $0.30 cache read, $3.75 5-min write, $6 1-h write, $15 out
    usage = Usage(10_000, 500, cached_tokens=6_000, cache_write_tokens=3_000, cache_write_1h_tokens=1_000)
    assert lines(sonnet, usage) == {
        "input": (1_000, 3_000_000, "input"),  # 10 000 − 6 000 read − 3 000 written
        "cached_input": (6_000, 1_800_000, "cached_input"),  # 10 % of input
        "cache_write": (2_000, 7_500_000, "cache_write"),  # 125 % of input
        "cache_write_1h": (1_000, 6_000_000, "cache_write_1h"),  # 200 % of input
        "output": (500, 7_500_000, "output"),
    }
    assert bill(sonnet, usage).cost_nanos == 25_800_000
    # Before dimensions every prompt token cost the input price: cached tokens were overcharged
    # and cache writes undercharged.
    assert chat_cost(sonnet, 10_000, 500) == 37_500_000


def test_openai_and_deepseek_cached_input() -> None:
    assert bill(seeded("gpt-4.1"), Usage(2_000, 100, cached_tokens=1_024)).cost_nanos == (
        976 * 2_000 + 1_024 * 500 + 100 * 8_000  # $2 input, $0.50 cached (25 %), $8 output per 1M
    )
    assert bill(seeded("deepseek"), Usage(1_000, 0, cached_tokens=1_000)).cost_nanos == 70_000  # cache hit


def test_dimensions_not_priced_apart_fall_back_and_say_so() -> None:
    plain = PriceInfo("per_1k_tokens", 1_000_000, 4_000_000)
    usage = Usage(
        1_000,
        600,
        cached_tokens=200,
        cache_write_tokens=100,
        cache_write_1h_tokens=50,
        audio_input_tokens=10,
        reasoning_tokens=300,
        audio_output_tokens=20,
    )
    found = lines(plain, usage)
    assert found["cached_input"][2] == found["cache_write"][2] == found["audio_input"][2] == "input"
    assert found["cache_write_1h"][2] == "input"  # via cache_write, which is not priced either
    assert found["reasoning"][2] == found["audio_output"][2] == "output"
    # ... so the total is what one input and one output price give.
    assert bill(plain, usage).cost_nanos == chat_cost(plain, 1_000, 600) == 1_000_000 + 2_400_000
    with_write = PriceInfo(
        "per_1k_tokens",
        1_000_000,
        0,
        parse_price("per_1k_tokens", {"input": "0", "cache_write": "0.002"}).components,
    )
    assert lines(with_write, Usage(100, 0, cache_write_tokens=100, cache_write_1h_tokens=100))[
        "cache_write_1h"
    ] == (
        100,
        200_000,
        "cache_write",
    )


def test_reasoning_and_audio_priced_apart() -> None:
    price = parse_price(
        "per_1k_tokens",
        {
            "input": "0.0025",
            "output": "0.01",
            "reasoning": "0.02",
            "audio_input": "0.04",
            "audio_output": "0.08",
        },
    )
    usage = Usage(1_000, 1_000, audio_input_tokens=250, reasoning_tokens=400, audio_output_tokens=100)
    assert lines(price, usage) == {
        "input": (750, 1_875_000, "input"),
        "audio_input": (250, 10_000_000, "audio_input"),
        "output": (500, 5_000_000, "output"),  # 1 000 − 400 reasoning − 100 audio
        "reasoning": (400, 8_000_000, "reasoning"),
        "audio_output": (100, 8_000_000, "audio_output"),
    }
    assert bill(price, usage).cost_nanos == 32_875_000
    flash = seeded("gemini-2.5-flash")  # audio input $1.00 per 1M, text $0.30
    assert (
        bill(flash, Usage(5_000, 100, audio_input_tokens=2_000)).cost_nanos == 900_000 + 2_000_000 + 250_000
    )


def test_context_tier_prices_every_token_of_a_long_request() -> None:
    pro = seeded("gemini-2.5-pro")
    long = bill(pro, Usage(250_000, 1_000, cached_tokens=50_000))
    assert long.tier == 200_000
    assert {line.dimension: (int(line.exact_nanos), line.tier) for line in long.lines} == {
        "input": (200_000 * 2_500, 200_000),  # $2.50 per 1M above 200k (not $1.25)
        "cached_input": (50_000 * 250, 200_000),
        "output": (1_000 * 15_000, 200_000),  # $15 per 1M above 200k (not $10)
    }
    assert long.cost_nanos == 527_500_000
    at_threshold = bill(pro, Usage(200_000, 1_000, cached_tokens=50_000))  # "above" 200k only
    assert at_threshold.tier == 0
    assert at_threshold.cost_nanos == 150_000 * 1_250 + 50_000 * 125 + 1_000 * 10_000
    # A tier need only list what changes: a dimension it omits keeps the lower tier's price.
    partial = parse_price("per_1k_tokens", {"input": "0.001", "output": "0.002", "input>100": "0.003"})
    assert lines(partial, Usage(200, 10)) == {
        "input": (200, 600_000, "input"),
        "output": (10, 20_000, "output"),
    }


def test_one_rounding_per_request_of_the_sum() -> None:
    tiny = parse_price(
        "per_1k_tokens", {"input": "0.000000001", "output": "0.000000001", "cached_input": "0.000000001"}
    )
    costing = bill(tiny, Usage(600, 300, cached_tokens=300))
    assert [line.exact_nanos for line in costing.lines] == [Fraction(3, 10)] * 3
    assert costing.exact_nanos == Fraction(9, 10)
    assert costing.cost_nanos == 1  # rounding each line up would have charged 3
    assert bill(tiny, Usage(0, 0)).cost_nanos == 0 and bill(tiny, Usage(0, 0)).lines == ()


def test_per_request_prices_ignore_tokens() -> None:
    flat = PriceInfo("per_request", 2_000_000, version_id=7)
    costing = bill(flat, Usage(10_000, 10_000, cached_tokens=9_000))
    assert (costing.cost_nanos, costing.version_id, [line.dimension for line in costing.lines]) == (
        2_000_000,
        7,
        ["request"],
    )
    with pytest.raises(ValueError, match="negative"):
        bill(flat, Usage(-1, 0))


def test_images_by_size_and_quality() -> None:
    image = seeded("gpt-image-1")
    assert bill_images(image, 2, size="1024x1536", quality="high").cost_nanos == 500_000_000
    assert bill_images(image, 1, size="1024x1024", quality="low").cost_nanos == 11_000_000
    # No quality (or auto): the upstream chooses, so the most expensive of the size is the bound.
    assert bill_images(image, 1, size="1024x1024").cost_nanos == 167_000_000
    assert bill_images(image, 1, size="1536x1024", quality="auto").cost_nanos == 250_000_000
    [line] = bill_images(image, 3, size="1536x1024", quality="medium").lines
    assert (line.variant, line.quantity, line.unit_price_nanos) == ("1536x1024/medium", 3, 63_000_000)
    for size, quality, param in (("512x512", "low", "size"), ("1024x1024", "ultra", "quality")):
        with pytest.raises(InvalidRequest) as refused:
            bill_images(image, 1, size=size, quality=quality)
        assert (refused.value.status, refused.value.code, refused.value.param) == (
            400,
            "IMAGE_VARIANT_NOT_PRICED",
            param,
        )
        assert "1024x1024/high" in refused.value.message
    sized = parse_price(
        "per_image", {"input": "0.04", "image:1024x1024": "0.03", "image:2048x2048/hd": "0.2"}
    )
    assert bill_images(sized, 1, size="1024x1024", quality="anything").cost_nanos == 30_000_000  # any quality
    flat = seeded("flux-1-dev")  # one per-image price for every size
    assert bill_images(flat, 2, size="512x512", quality="hd").cost_nanos == 50_000_000
    assert (
        seeded("dall-e-3").image_variants()
        and bill_images(seeded("dall-e-3"), 1, size="1792x1024", quality="hd").cost_nanos == 120_000_000
    )


@st.composite
def price_and_usage(draw: st.DrawFn) -> tuple[PriceInfo, Usage]:
    nanos = st.integers(0, 50_000_000)
    entries = {"input": nanos, "output": nanos}
    for name in ("cached_input", "cache_write", "cache_write_1h", "reasoning", "audio_input", "audio_output"):
        if draw(st.booleans()):
            entries[name] = nanos
    if draw(st.booleans()):
        tier = draw(st.integers(1, 5_000))
        for name in draw(
            st.lists(st.sampled_from(["input", "output", "cached_input", "cache_write"]), unique=True)
        ):
            entries[f"{name}>{tier}"] = nanos
    price = parse_price("per_1k_tokens", {key: usd_str(draw(value)) for key, value in entries.items()})
    prompt = draw(st.integers(0, 10_000))
    cached = draw(st.integers(0, prompt))
    written = draw(st.integers(0, prompt - cached))
    hour = draw(st.integers(0, written))
    audio_in = draw(st.integers(0, prompt - cached - written))
    completion = draw(st.integers(0, 10_000))
    reasoning = draw(st.integers(0, completion))
    audio_out = draw(st.integers(0, completion - reasoning))
    usage = Usage(prompt, completion, True, cached, written, hour, reasoning, audio_in, audio_out)
    return price, usage


@given(price_and_usage())
def test_the_hold_bounds_every_bill_of_the_same_token_counts(case: tuple[PriceInfo, Usage]) -> None:
    price, usage = case
    assert bill(price, usage).cost_nanos <= hold_cost(price, usage.prompt_tokens, usage.completion_tokens)


def test_the_hold_is_at_the_most_expensive_input_dimension() -> None:
    sonnet = seeded("claude-sonnet-4")
    assert hold_cost(sonnet, 1_000, 100) == 1_000 * 6_000 + 100 * 15_000  # the 1-hour write price
    assert hold_cost(seeded("gemini-2.5-pro"), 300_000, 0) == 300_000 * 2_500  # its tier's price
    assert hold_cost(PriceInfo("per_request", 5), 10, 10) == 5


def test_a_bill_is_shown_by_dimension_exactly() -> None:
    sonnet = PriceInfo(
        "per_1k_tokens", 3_000_000, 15_000_000, seeded("claude-sonnet-4").components, version_id=41
    )
    costing = bill(sonnet, Usage(1_001, 3, cached_tokens=1))

    class Model:
        slug, endpoint, pricing = "claude-sonnet-4", "chat", sonnet

    shown = orjson.loads(orjson.dumps(billing_json(Model(), costing.cost_nanos, sonnet, costing)))
    assert shown["price_version_id"] == 41
    assert shown["breakdown"] == [
        {"dimension": "input", "quantity": 1000, "unit": "per_1k_tokens", "unit_price": 0.003, "cost": 0.003},
        {
            "dimension": "cached_input",
            "quantity": 1,
            "unit": "per_1k_tokens",
            "unit_price": 0.0003,
            "cost": 3e-07,
        },
        {"dimension": "output", "quantity": 3, "unit": "per_1k_tokens", "unit_price": 0.015, "cost": 4.5e-05},
    ]
    text = orjson.dumps(billing_json(Model(), costing.cost_nanos, sonnet, costing)).decode()
    assert (
        '"cost":0.0000003' in text and '"exact_cost_usd":0.0030453' in text and '"cost_usd":0.0030453' in text
    )
    assert (
        orjson.dumps(cost_details_json(costing.lines))
        == b'{"input":0.003,"cached_input":0.0000003,"output":0.000045}'
    )
    # A per-minute subtotal that is no finite decimal stays exact, as a fraction of USD.
    [minute] = bill_units(PriceInfo("per_minute", 6_700_000), 61, dimension="audio_seconds").lines
    assert orjson.loads(orjson.dumps(cost_details_json([minute]))) == {"audio_seconds": "4087/600000"}


def test_stored_lines_read_back_identically() -> None:
    costing = bill(seeded("gemini-2.5-pro"), Usage(250_000, 7, cached_tokens=3))
    stored = orjson.loads(orjson.dumps(costing.as_record()))
    assert tuple(CostLine.from_record(record) for record in stored) == costing.lines
    quarter = bill_units(PriceInfo("per_second", 1_000), Fraction(1, 4), dimension="audio_seconds").lines[0]
    assert CostLine.from_record(orjson.loads(orjson.dumps(quarter.as_record()))) == quarter


def test_models_list_shows_every_dimension() -> None:
    shown = orjson.loads(orjson.dumps(price_json(seeded("gemini-2.5-pro"))))
    assert shown == {
        "unit": "per_1k_tokens",
        "input": 0.00125,
        "output": 0.01,
        "currency": "USD",
        "cached_input": 0.000125,
        "tiers": [{"above_input_tokens": 200000, "cached_input": 0.00025, "input": 0.0025, "output": 0.015}],
        "version_id": None,
    }
    images = orjson.loads(orjson.dumps(price_json(seeded("dall-e-3"))))["images"]
    assert {"size": "1792x1024", "quality": "hd", "price": 0.12} in images and len(images) == 6
