"""What a request's usage row records about its price: the version billed, the bill by
dimension, the token details, and what the serving route's provider charges for the same
usage (the upstream cost, from the route's cost price; unknown without one)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from fractions import Fraction
from typing import Any, Final

from modelsnest.catalog.pricing import Costing, bill_units
from modelsnest.catalog.types import PriceInfo
from modelsnest.errors import ModelsnestError
from modelsnest.gateway.fallback import Served
from modelsnest.providers.types import Usage

log = logging.getLogger(__name__)

Meter = Callable[[PriceInfo], Costing]
DETAIL_FIELDS: Final = (
    "cached_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "audio_input_tokens",
    "audio_output_tokens",
)


def token_details(usage: Usage) -> dict[str, int]:
    """The usage row's token detail columns (parts of prompt/completion tokens)."""
    return {name: int(getattr(usage, name)) for name in DETAIL_FIELDS}


def upstream_cost(meter: Meter | None, served: Served) -> Costing | None:
    """The route's cost price applied to the same usage, or None when the route has none (or
    it cannot bill this usage: a variant it does not price, another unit)."""
    cost = served.cost
    if cost is None or meter is None:
        return None
    try:
        return meter(cost)
    except (ModelsnestError, ValueError, TypeError) as exc:
        log.warning(
            "the cost price of %s/%s cannot bill this request: %s",
            served.provider_name,
            served.upstream_model,
            exc,
        )
        return None


def cost_fields(costing: Costing | None, meter: Meter | None, served: Served) -> dict[str, Any]:
    """The usage row's price columns: breakdown, upstream cost and its price version."""
    fields: dict[str, Any] = {}
    if costing is not None:
        fields["cost_breakdown"] = costing.as_record()
    upstream = upstream_cost(meter, served)
    if upstream is not None:
        fields["upstream_cost_nanos"] = upstream.cost_nanos
        fields["upstream_price_version_id"] = upstream.version_id
    return fields


def unit_costing(price: PriceInfo, quantity: int | Fraction, dimension: str) -> tuple[Costing, Meter]:
    """The bill of ``quantity`` measured units, and the meter that prices them at any price."""

    def meter(at: PriceInfo) -> Costing:
        return bill_units(at, quantity, dimension=dimension)

    return meter(price), meter


__all__ = ["DETAIL_FIELDS", "Meter", "cost_fields", "token_details", "unit_costing", "upstream_cost"]
