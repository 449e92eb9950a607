"""Exact cost for every price unit, one round-up per request, and exact JSON rendering."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import orjson
import pytest

from modelsnest.catalog.pricing import (
    billing_json,
    catalog_pricing_json,
    chat_cost,
    exact_chat_cost,
    price_per_1k_display,
    price_text,
    require_price,
    unit_cost,
)
from modelsnest.catalog.types import PriceInfo
from modelsnest.errors import PricingError
from modelsnest.money import usd_to_nanos


@dataclass(frozen=True)
class Model:
    slug: str
    endpoint: str
    pricing: PriceInfo | None


def price(unit: str, usd_in: str, usd_out: str = "0") -> PriceInfo:
    return PriceInfo(unit, usd_to_nanos(usd_in), usd_to_nanos(usd_out))


def test_chat_cost_is_exact_sum_of_input_and_output() -> None:
    deepseek = price("per_1k_tokens", "0.00027", "0.0011")
    assert chat_cost(deepseek, 31, 58) == 31 * 270_000 // 1000 + 58 * 1_100_000 // 1000 == 72_170
    gpt4o_mini = price("per_1k_tokens", "0.00015", "0.0006")
    assert chat_cost(gpt4o_mini, 1000, 1000) == 150_000 + 600_000


def test_chat_cost_rounds_up_once_not_per_part() -> None:
    tiny = PriceInfo("per_1k_tokens", 1, 1)
    # 0.5 + 0.5 nano = exactly 1 nano; rounding each part up would charge 2.
    assert exact_chat_cost(tiny, 500, 500) == 1
    assert chat_cost(tiny, 500, 500) == 1
    assert chat_cost(tiny, 1, 0) == 1  # non-zero usage is never free
    assert chat_cost(tiny, 0, 0) == 0


def test_chat_cost_refuses_a_non_token_price() -> None:
    with pytest.raises(PricingError) as info:
        chat_cost(price("per_image", "0.04"), 10, 10)
    assert info.value.code == "INVALID_PRICING"
    assert chat_cost(price("per_request", "0.002"), 10_000, 10_000) == 2_000_000


def test_per_minute_bills_exact_seconds() -> None:
    whisper = price("per_minute", "0.006")
    assert unit_cost(whisper, 61) == 61 * 6_000_000 // 60 == 6_100_000
    assert unit_cost(whisper, 60) == 6_000_000  # no rounding to whole minutes either way
    assert unit_cost(whisper, 1) == 100_000
    assert unit_cost(whisper, Fraction(6125, 100)) == 6_125_000  # 61.25 s measured from a file
    scribe = price("per_minute", "0.0067")
    # 61 × 6_700_000 / 60 = 6_811_666.66… → rounded up once
    assert unit_cost(scribe, 61) == 6_811_667


@pytest.mark.parametrize(
    ("unit", "usd", "quantity", "expected_nanos"),
    [
        ("per_image", "0.04", 3, 120_000_000),
        ("per_second", "0.05", 10, 500_000_000),
        ("per_second", "0.05", Fraction(21, 4), 262_500_000),
        ("per_character", "0.000015", 1234, 18_510_000),
        ("per_1k_characters", "0.1", 64, 6_400_000),
        ("per_1k_characters", "0.015", 1, 15_000),
        ("per_1k_characters", "0.000000001", 1, 1),  # 0.001 nano → rounds up to 1
        ("per_request", "0.002", 2, 4_000_000),
        ("per_1k_tokens", "0.00002", 12, 240),
        ("per_1k_tokens", "0.00002", 7, 140),
    ],
)
def test_unit_cost_for_every_unit(unit: str, usd: str, quantity: int | Fraction, expected_nanos: int) -> None:
    assert unit_cost(price(unit, usd), quantity) == expected_nanos


def test_quantities_must_be_exact_and_not_negative() -> None:
    whisper = price("per_minute", "0.006")
    with pytest.raises(TypeError):
        unit_cost(whisper, 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        unit_cost(whisper, True)
    with pytest.raises(ValueError):
        unit_cost(whisper, -1)
    with pytest.raises(ValueError):
        chat_cost(price("per_1k_tokens", "0.001", "0.001"), -1, 0)
    assert unit_cost(whisper, 0) == 0


def test_require_price_checks_presence_and_unit() -> None:
    ok = Model("whisper-1", "transcription", price("per_minute", "0.006"))
    assert require_price(ok) is ok.pricing
    with pytest.raises(PricingError) as missing:
        require_price(Model("x", "chat", None))
    assert missing.value.code == "PRICING_MISSING"
    assert missing.value.status == 500
    with pytest.raises(PricingError) as invalid:
        require_price(Model("x", "chat", price("per_image", "0.04")))
    assert invalid.value.code == "INVALID_PRICING"
    with pytest.raises(PricingError) as unknown:
        unit_cost(PriceInfo("per_fortnight", 1), 1)
    assert unknown.value.code == "INVALID_PRICING"


def test_display_is_exact_decimal_strings() -> None:
    tokens = price("per_1k_tokens", "0.00015", "0.0006")
    assert price_per_1k_display(tokens) == "0.00015"
    assert price_per_1k_display(tokens, "output") == "0.0006"
    assert price_per_1k_display(price("per_character", "0.000015")) == "0.015"
    assert price_per_1k_display(price("per_1k_characters", "0.1")) == "0.1"
    assert price_per_1k_display(price("per_1k_characters", "0.1"), "output") is None
    assert price_per_1k_display(price("per_image", "0.04")) is None
    assert price_per_1k_display(price("per_minute", "0.006")) is None


def test_catalog_pricing_and_billing_json() -> None:
    model = Model("gpt-4o-mini", "chat", price("per_1k_tokens", "0.00015", "0.0006"))
    # Exact decimal JSON numbers, written from their decimal text (never through a float).
    assert orjson.dumps(catalog_pricing_json(model)) == (
        b'{"slug":"gpt-4o-mini","input_price":0.00015,"output_price":0.0006,"price_unit":"per_1k_tokens"}'
    )
    assert orjson.dumps(billing_json(model, 1)) == (
        b'{"cost_usd":0.000000001,"input_price_per_1k":0.00015,"output_price_per_1k":0.0006,'
        b'"catalog_pricing":' + orjson.dumps(catalog_pricing_json(model)) + b"}"
    )
    unpriced = Model("x", "chat", None)
    assert catalog_pricing_json(unpriced)["price_unit"] is None
    assert orjson.dumps(billing_json(unpriced, 0)["cost_usd"]) == b"0"


def test_price_text() -> None:
    assert price_text(price("per_minute", "0.006"), "transcription") == (
        "$0.006 per minute of audio, billed per second"
    )
    assert price_text(price("per_second", "0.05"), "video") == "$0.05 per second of video"
    assert price_text(price("per_1k_characters", "0.1"), "speech") == "$0.10 per 1K characters"
    assert price_text(price("per_1k_tokens", "0.00002"), "embeddings") == "$0.00002 per 1K input tokens"
    assert price_text(price("per_image", "2"), "images") == "$2.00 per image"
