"""The ``billing`` object and ``usage.cost`` added to every successful response."""

from __future__ import annotations

from typing import Any

from modelsnest.catalog.types import ModelInfo, PriceInfo
from modelsnest.gateway.json import money


def catalog_pricing(model: ModelInfo, price: PriceInfo) -> dict[str, Any]:
    return {
        "slug": model.slug,
        "input_price": money(price.input_nanos),
        "output_price": money(price.output_nanos),
        "price_unit": price.unit,
    }


def chat_billing(model: ModelInfo, price: PriceInfo, cost_nanos: int) -> dict[str, Any]:
    return {
        "cost_usd": money(cost_nanos),
        "input_price_per_1k": money(price.input_nanos),
        "output_price_per_1k": money(price.output_nanos),
        "catalog_pricing": catalog_pricing(model, price),
    }


def unit_billing(
    model: ModelInfo, price: PriceInfo, cost_nanos: int, quantity: Any, unit: str
) -> dict[str, Any]:
    return {
        "cost_usd": money(cost_nanos),
        "unit_price": money(price.input_nanos),
        "price_unit": price.unit,
        "billed_quantity": quantity,
        "billed_unit": unit,
        "catalog_pricing": catalog_pricing(model, price),
    }
