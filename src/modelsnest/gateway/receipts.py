"""The ``billing`` object and ``usage.cost`` added to every successful response.

Both use the price the request was admitted with (``Call.price``), not the catalog's current
one, so an answer shows the price it was billed at even when the price changed meanwhile."""

from __future__ import annotations

from typing import Any

from modelsnest.catalog.pricing import Costing, billing_json, cost_details_json
from modelsnest.catalog.types import ModelInfo, PriceInfo
from modelsnest.exact_json import money


def chat_billing(
    model: ModelInfo, price: PriceInfo, cost_nanos: int, costing: Costing | None = None
) -> dict[str, Any]:
    return billing_json(model, cost_nanos, price, costing)


def unit_billing(
    model: ModelInfo,
    price: PriceInfo,
    cost_nanos: int,
    quantity: Any,
    unit: str,
    costing: Costing | None = None,
) -> dict[str, Any]:
    """Per-unit endpoints add what was measured: how many units of which kind were billed."""
    return {
        **billing_json(model, cost_nanos, price, costing),
        "billed_quantity": quantity,
        "billed_unit": unit,
    }


def add_cost(usage: dict[str, Any], cost_nanos: int, costing: Costing | None) -> dict[str, Any]:
    """``usage.cost`` (the rounded charge) and ``usage.cost_details`` (exact, by dimension)."""
    usage["cost"] = money(cost_nanos)
    if costing is not None:
        usage["cost_details"] = cost_details_json(costing.lines)
    return usage
