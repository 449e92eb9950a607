"""How prices and bills are shown: in API responses (JSON) and in words.

**JSON rendering.** Prices and costs go into responses as exact JSON numbers written from
their decimal text (``orjson.Fragment``: ``0.00015``, ``0.000000001``, ``12.5``), never
through a float, because a float cannot hold most decimal prices exactly. A price that has no
per-1k meaning (per image, per second …) is rendered as ``null`` in the ``*_per_1k`` fields.

A bill's lines (``breakdown``) show each dimension's exact, unrounded subtotal in USD. Every
subtotal of a token, image, character or per-second price is a finite decimal; a per-minute
price can make one that is not (61 s at $0.0067/min), and then it is given as an exact
fraction string of USD (61 s at $0.0067 per minute: ``"4087/600000"``). The total is always
the one rounded-up ``cost_usd``.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

import orjson

from modelsnest.catalog.types import PRICED_AS, PriceInfo
from modelsnest.errors import PricingError
from modelsnest.exact_json import money
from modelsnest.money import NANOS_PER_USD, usd_str

if TYPE_CHECKING:
    from modelsnest.catalog.pricing import Costing, CostLine, PricedModel


def _decimal(text: str | None) -> orjson.Fragment | None:
    return None if text is None else orjson.Fragment(text.encode())


def _scaled_decimal(scaled: int, places: int) -> orjson.Fragment:
    """``scaled / 10**places`` as exact decimal text (``0.5``, ``-12``, ``0.000000001``)."""
    digits = str(abs(scaled)).rjust(places + 1, "0")
    whole, decimals = digits[: len(digits) - places], digits[len(digits) - places :].rstrip("0")
    return orjson.Fragment(
        (("-" if scaled < 0 else "") + whole + (f".{decimals}" if decimals else "")).encode()
    )


def exact_decimal(value: Fraction) -> orjson.Fragment | str:
    """An exact rational as a JSON number, or as a ``"numerator/denominator"`` string when its
    decimal expansion does not terminate. Integer arithmetic only: never rounded."""
    twos = fives = 0
    rest = value.denominator
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    return _scaled_decimal(value.numerator * 10**places // value.denominator, places)  # exact


# 10**12: every denominator a token, character or image price makes divides it (per 1K units).
_PICO = 10**12
_NANO_PLACES = 9


def exact_usd(nanos: Fraction | int) -> orjson.Fragment | str:
    """An exact amount of nanos as USD (see ``exact_decimal``). Every bill's lines pass here,
    so the common amounts (whole nanos, or fractions of them over a divisor of 10**12) are
    written with one integer multiplication instead of the general factorisation."""
    if isinstance(nanos, int):
        return _scaled_decimal(nanos, _NANO_PLACES)
    if _PICO % nanos.denominator == 0:
        return _scaled_decimal(nanos.numerator * (_PICO // nanos.denominator), _NANO_PLACES + 12)
    return exact_decimal(nanos / NANOS_PER_USD)


def _quantity(value: int | Fraction) -> int | orjson.Fragment | str:
    return value if isinstance(value, int) else exact_decimal(value)


def line_json(line: CostLine) -> dict[str, Any]:
    """``{"dimension", "quantity", "unit", "unit_price", "cost"}`` (+ ``priced_as``,
    ``variant``, ``above_input_tokens`` when they apply): the unit price is USD per ``unit``."""
    out: dict[str, Any] = {
        "dimension": line.dimension,
        "quantity": _quantity(line.quantity),
        "unit": line.unit,
        "unit_price": money(line.unit_price_nanos),
        "cost": exact_usd(line.exact_nanos),
    }
    if line.priced_as != line.dimension:
        out["priced_as"] = line.priced_as
    if line.variant:
        out["variant"] = line.variant
    if line.tier:
        out["above_input_tokens"] = line.tier
    return out


def breakdown_json(lines: Iterable[CostLine]) -> list[dict[str, Any]]:
    return [line_json(line) for line in lines]


def cost_details_json(lines: Iterable[CostLine]) -> dict[str, Any]:
    """``usage.cost_details``: dimension (``image:variant`` for images) → exact subtotal in USD."""
    details: dict[str, Any] = {}
    for line in lines:
        key = f"{line.dimension}:{line.variant}" if line.variant else line.dimension
        details[key] = exact_usd(line.exact_nanos)
    return details


def price_json(price: PriceInfo) -> dict[str, Any]:
    """A price for ``/models``: unit, base input and output, currency (as before), then the
    base-tier price of every further dimension priced apart, ``tiers`` and ``images`` when the
    price has them, and the version id."""
    out: dict[str, Any] = {
        "unit": price.unit,
        "input": money(price.input_nanos),
        "output": money(price.output_nanos),
        "currency": "USD",
    }
    tiers: dict[int, dict[str, Any]] = {}
    images: list[dict[str, Any]] = []
    for component in price.components:
        if component.dimension == "image":
            size, _, quality = component.variant.partition("/")
            images.append({"size": size, "quality": quality or None, "price": money(component.price_nanos)})
        elif component.above_input_tokens:
            tier = tiers.setdefault(
                component.above_input_tokens, {"above_input_tokens": component.above_input_tokens}
            )
            tier[component.dimension] = money(component.price_nanos)
        else:
            out[component.dimension] = money(component.price_nanos)
    if tiers:
        out["tiers"] = [tiers[key] for key in sorted(tiers)]
    if images:
        out["images"] = images
    out["version_id"] = price.version_id
    return out


def price_per_1k_display(price: PriceInfo, side: Literal["input", "output"] = "input") -> str | None:
    """The price per 1,000 tokens or characters as an exact decimal USD string.

    ``None`` when the unit has no per-1k reading (per image, per second, per minute, per
    request) or for the output side of a unit that prices only its input.
    """
    nanos = price.input_nanos if side == "input" else price.output_nanos
    if price.unit == "per_1k_tokens":
        return usd_str(nanos)
    if side == "output":
        return None
    if price.unit == "per_1k_characters":
        return usd_str(nanos)
    if price.unit == "per_character":
        return usd_str(nanos * 1000)
    return None


def _usd_display(nanos: int) -> str:
    text = usd_str(nanos)
    whole, _, decimals = text.partition(".")
    return f"${whole}.{decimals.ljust(2, '0')}"


_DIMENSION_WORDS = {
    "cached_input": "cached input",
    "cache_write": "cache writes",
    "cache_write_1h": "1-hour cache writes",
    "reasoning": "reasoning",
    "audio_input": "audio input",
    "audio_output": "audio output",
}


def price_text(price: PriceInfo, endpoint: str) -> str:
    """A one-line human description of a price, exact to the nano: ``"$0.006 per minute of
    audio, billed per second"``, ``"$0.00015 per 1K input tokens and $0.0006 per 1K output tokens"``
    (then ``"; cached input $0.000075"`` … for the further base-tier dimensions)."""
    amount = _usd_display(price.input_nanos)
    medium = "video" if endpoint == "video" else "audio"
    if price.unit == "per_1k_tokens":
        text = f"{amount} per 1K input tokens"
        if price.output_nanos:
            text += f" and {_usd_display(price.output_nanos)} per 1K output tokens"
        extras = [
            f"{_DIMENSION_WORDS[c.dimension]} {_usd_display(c.price_nanos)}"
            for c in price.components
            if c.dimension in PRICED_AS and not c.above_input_tokens
        ]
        if extras:
            text += "; per 1K tokens of " + ", ".join(extras)
        if len(price.tiers()) > 1:
            text += f"; more above {price.tiers()[1]:,} input tokens"
        return text
    if price.unit == "per_image" and price.image_variants():
        low = min(c.price_nanos for c in price.image_variants())
        return f"from {_usd_display(low)} per image, by size and quality"
    texts = {
        "per_image": f"{amount} per image",
        "per_second": f"{amount} per second of {medium}",
        "per_minute": f"{amount} per minute of {medium}, billed per second",
        "per_character": f"{amount} per character",
        "per_1k_characters": f"{amount} per 1K characters",
        "per_request": f"{amount} per search (a query and up to 100 documents)"
        if endpoint == "rerank"
        else f"{amount} per request",
    }
    try:
        return texts[price.unit]
    except KeyError:
        raise PricingError(f"Unknown price unit {price.unit!r}.", code="INVALID_PRICING") from None


def catalog_pricing_json(model: PricedModel, price: PriceInfo | None = None) -> dict[str, Any]:
    """``{"slug", "input_price", "output_price", "price_unit"}`` of ``price`` (default: the
    model's current one); prices are exact JSON numbers (all ``None`` when unpriced)."""
    price = price if price is not None else model.pricing
    if price is None:
        return {"slug": model.slug, "input_price": None, "output_price": None, "price_unit": None}
    return {
        "slug": model.slug,
        "input_price": money(price.input_nanos),
        "output_price": money(price.output_nanos),
        "price_unit": price.unit,
    }


def billing_json(
    model: PricedModel, cost_nanos: int, price: PriceInfo | None = None, costing: Costing | None = None
) -> dict[str, Any]:
    """The ``billing`` object added to every successful response (exact JSON numbers).

    ``price`` is the price the request was billed at (its admission's; default: the model's
    current one). With a ``costing``, the bill's ``breakdown`` by dimension and the
    ``price_version_id`` are added."""
    price = price if price is not None else model.pricing
    out: dict[str, Any] = {
        "cost_usd": money(cost_nanos),
        "input_price_per_1k": _decimal(price_per_1k_display(price, "input")) if price else None,
        "output_price_per_1k": _decimal(price_per_1k_display(price, "output")) if price else None,
        "catalog_pricing": catalog_pricing_json(model, price),
    }
    if costing is not None:
        out["exact_cost_usd"] = exact_usd(costing.exact_nanos)
        out["breakdown"] = breakdown_json(costing.lines)
        out["price_version_id"] = costing.version_id
    return out


__all__ = [
    "billing_json",
    "exact_decimal",
    "breakdown_json",
    "catalog_pricing_json",
    "cost_details_json",
    "exact_usd",
    "line_json",
    "price_json",
    "price_per_1k_display",
    "price_text",
]
