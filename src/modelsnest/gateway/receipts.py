"""The ``billing`` object and ``usage.cost`` added to every successful response."""

from __future__ import annotations

from typing import Any

from modelsnest.catalog.pricing import billing_json
from modelsnest.catalog.types import ModelInfo, PriceInfo


def chat_billing(model: ModelInfo, price: PriceInfo, cost_nanos: int) -> dict[str, Any]:
    return billing_json(model, cost_nanos)


def unit_billing(
    model: ModelInfo, price: PriceInfo, cost_nanos: int, quantity: Any, unit: str
) -> dict[str, Any]:
    """Per-unit endpoints add what was measured: how many units of which kind were billed."""
    return {**billing_json(model, cost_nanos), "billed_quantity": quantity, "billed_unit": unit}
