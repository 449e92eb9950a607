"""Prices as operators write them, checked before they become a version.

A price is written as its unit and USD decimal strings keyed by component (``parse_price``):

    "input", "output"                 the base price per 1k tokens (or per image, second …)
    "cached_input", "cache_write",    further token dimensions (``catalog.types.TOKEN_DIMENSIONS``)
    "cache_write_1h", "reasoning",
    "audio_input", "audio_output"
    "input>200000", "output>200000"   a context tier: the price above 200,000 input tokens
    "image:1024x1024/high"            an image variant (size/quality), "image:1024x1024" (any quality)

``validate_price`` is what every writer (``prices.set_price``, ``set_route_cost``, the seed)
checks: exact non-negative integers of nanos, dimensions that fit the unit, well-formed
variants and tiers, no component given twice, and a unit that can bill the model's endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from modelsnest.catalog.types import (
    PRICE_DIMENSIONS,
    TOKEN_DIMENSIONS,
    UNITS_BY_ENDPOINT,
    PriceComponent,
    PriceInfo,
)
from modelsnest.db.models.catalog import PRICE_UNITS
from modelsnest.errors import InvalidRequest
from modelsnest.money import InvalidAmount, usd_str, usd_to_nanos

# $1,000,000 per unit: far above any real price, far below what BIGINT sums could overflow.
MAX_PRICE_NANOS: Final = 10**15
_KEY = re.compile(r"^(?P<dimension>[a-z0-9_]+)(?::(?P<variant>[^>\s]+))?(?:>(?P<tier>\d{1,12}))?$")
_VARIANT = re.compile(r"^\d{1,5}x\d{1,5}(?:/[a-z0-9_-]{1,24})?$")


def _nanos(value: str | int | Decimal, key: str) -> int:
    try:
        nanos = usd_to_nanos(value)
    except InvalidAmount as exc:
        raise InvalidRequest(f"price {key!r}: {exc}", param=key) from exc
    return nanos


def parse_component_key(key: str) -> tuple[str, str, int]:
    """``"image:1024x1024/high"`` → ("image", "1024x1024/high", 0); ``"input>200000"`` →
    ("input", "", 200000)."""
    match = _KEY.match(key.strip())
    if match is None:
        raise InvalidRequest(
            f"price key {key!r} is not dimension[:variant][>tokens], e.g. cached_input, input>200000, "
            "image:1024x1024/high",
            param=key,
        )
    return match["dimension"], match["variant"] or "", int(match["tier"] or 0)


def parse_price(
    unit: str, entries: Mapping[str, str | int | Decimal], *, endpoint: str | None = None
) -> PriceInfo:
    """A ``PriceInfo`` from USD amounts keyed as in the module docstring, validated.
    ``input`` is required; ``output`` defaults to 0."""
    if "input" not in entries:
        raise InvalidRequest("a price needs its base 'input' price", param="input")
    input_nanos = output_nanos = 0
    components: list[PriceComponent] = []
    for key, value in entries.items():
        dimension, variant, tier = parse_component_key(key)
        nanos = _nanos(value, key)
        if dimension == "input" and not variant and not tier:
            input_nanos = nanos
        elif dimension == "output" and not variant and not tier:
            output_nanos = nanos
        else:
            components.append(PriceComponent(dimension, nanos, variant, tier))
    return validate_price(PriceInfo(unit, input_nanos, output_nanos, tuple(components)), endpoint=endpoint)


def _check_nanos(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRICE_NANOS:
        raise InvalidRequest(
            f"{what} must be a whole number of nano-dollars from 0 to {MAX_PRICE_NANOS}", param=what
        )


def validate_price(price: PriceInfo, *, endpoint: str | None = None) -> PriceInfo:
    """``price`` unchanged when it can be stored and billed, else ``InvalidRequest`` saying why."""
    if price.unit not in PRICE_UNITS:
        raise InvalidRequest(
            f"unknown price unit {price.unit!r}; use one of {', '.join(PRICE_UNITS)}", param="unit"
        )
    if endpoint is not None and price.unit not in UNITS_BY_ENDPOINT.get(endpoint, frozenset()):
        allowed = ", ".join(sorted(UNITS_BY_ENDPOINT.get(endpoint, ())))
        raise InvalidRequest(f"a {endpoint} model is priced {allowed}, not {price.unit}", param="unit")
    _check_nanos(price.input_nanos, "input")
    _check_nanos(price.output_nanos, "output")
    if price.output_nanos and price.unit != "per_1k_tokens":
        raise InvalidRequest("only token prices have an output price", param="output")
    seen: set[tuple[str, str, int]] = set()
    for c in price.components:
        key = c.key
        _check_nanos(c.price_nanos, key)
        if c.dimension not in PRICE_DIMENSIONS:
            raise InvalidRequest(
                f"unknown price dimension in {key!r}; use one of {', '.join(PRICE_DIMENSIONS)}", param=key
            )
        if (
            isinstance(c.above_input_tokens, bool)
            or not isinstance(c.above_input_tokens, int)
            or c.above_input_tokens < 0
        ):
            raise InvalidRequest(f"{key!r}: a tier is a whole number of input tokens", param=key)
        if c.dimension in TOKEN_DIMENSIONS:
            if price.unit != "per_1k_tokens":
                raise InvalidRequest(f"{key!r}: token dimensions need a per_1k_tokens price", param=key)
            if c.variant:
                raise InvalidRequest(f"{key!r}: only images have variants", param=key)
            if c.dimension in ("input", "output") and not c.above_input_tokens:
                raise InvalidRequest(f"{key!r} is the base {c.dimension} price, not a component", param=key)
        else:  # image
            if price.unit != "per_image":
                raise InvalidRequest(f"{key!r}: image variants need a per_image price", param=key)
            if not _VARIANT.match(c.variant) or c.above_input_tokens:
                raise InvalidRequest(
                    f"{key!r}: an image variant is WIDTHxHEIGHT or WIDTHxHEIGHT/quality, e.g. image:1024x1024/high",
                    param=key,
                )
        identity = (c.dimension, c.variant, c.above_input_tokens)
        if identity in seen:
            raise InvalidRequest(f"{key!r} is given twice", param=key)
        seen.add(identity)
    return price


def price_entries(price: PriceInfo) -> dict[str, str]:
    """The inverse of ``parse_price``: component key → USD decimal string."""
    entries = {"input": usd_str(price.input_nanos)}
    if price.unit == "per_1k_tokens":
        entries["output"] = usd_str(price.output_nanos)
    for c in price.components:
        entries[c.key] = usd_str(c.price_nanos)
    return entries


__all__ = ["MAX_PRICE_NANOS", "parse_component_key", "parse_price", "price_entries", "validate_price"]
