"""Exact cost of a request, for every modality, and how prices are shown in API responses.

Quantities are the *measured* amounts, in the natural unit of each price unit:

=====================  ======================  ==========================================
price unit             quantity given          cost (exact, then rounded up once)
=====================  ======================  ==========================================
``per_1k_tokens``      tokens                  tokens × price / 1000
``per_image``          images                  images × price
``per_second``         seconds (may be exact)  seconds × price
``per_minute``         seconds (may be exact)  seconds × price / 60 (no whole-minute rounding)
``per_character``      characters              characters × price
``per_1k_characters``  characters              characters × price / 1000
``per_request``        requests                requests × price
=====================  ======================  ==========================================

Durations measured from a file may be given as ``Fraction`` (e.g. ``Fraction(61_250, 1000)``
seconds); floats are refused. Each function returns whole nano-dollars after the single
rounding step of :func:`modelsnest.money.round_cost`; the ``exact_*`` variants return the
unrounded ``Fraction`` for callers that add several parts before rounding.

**JSON rendering.** Prices and costs go into responses as exact decimal *strings* of USD
(``"0.00015"``, ``"0.000000001"``, ``"12.5"``), never JSON floats, because a float cannot
hold most decimal prices exactly. A price that has no per-1k meaning (per image, per second …)
is rendered as ``null`` in the ``*_per_1k`` fields.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal, Protocol

import orjson

from modelsnest.catalog.types import UNITS_BY_ENDPOINT, PriceInfo
from modelsnest.errors import PricingError
from modelsnest.exact_json import money
from modelsnest.money import cost_for, round_cost, usd_str

# price unit → how many units of the measured quantity one priced unit covers.
_DIVISORS = {
    "per_1k_tokens": 1000,
    "per_image": 1,
    "per_second": 1,
    "per_minute": 60,
    "per_character": 1,
    "per_1k_characters": 1000,
    "per_request": 1,
}


class PricedModel(Protocol):
    """Anything with a slug, an endpoint and an optional price (``ModelInfo`` is one)."""

    @property
    def slug(self) -> str: ...

    @property
    def endpoint(self) -> str: ...

    @property
    def pricing(self) -> PriceInfo | None: ...


def _check_quantity(quantity: int | Fraction, what: str) -> Fraction:
    if isinstance(quantity, bool) or not isinstance(quantity, (int, Fraction)):
        raise TypeError(f"{what} must be an int or a Fraction, not {type(quantity).__name__}")
    if quantity < 0:
        raise ValueError(f"{what} cannot be negative")
    return Fraction(quantity)


def _divisor(price: PriceInfo) -> int:
    try:
        return _DIVISORS[price.unit]
    except KeyError:
        raise PricingError(f"Unknown price unit {price.unit!r}.", code="INVALID_PRICING") from None


def exact_chat_cost(price: PriceInfo, prompt_tokens: int, completion_tokens: int) -> Fraction:
    prompt = _check_quantity(prompt_tokens, "prompt_tokens")
    completion = _check_quantity(completion_tokens, "completion_tokens")
    if price.unit == "per_request":
        return Fraction(price.input_nanos)
    if price.unit != "per_1k_tokens":
        raise PricingError(f"A token-billed request cannot use a price {price.unit}.", code="INVALID_PRICING")
    return cost_for(prompt, price.input_nanos, 1000) + cost_for(completion, price.output_nanos, 1000)


def chat_cost(price: PriceInfo, prompt_tokens: int, completion_tokens: int) -> int:
    """Cost in nanos of a chat (or any input/output token) request, rounded up once."""
    return round_cost(exact_chat_cost(price, prompt_tokens, completion_tokens))


def exact_unit_cost(price: PriceInfo, quantity: int | Fraction) -> Fraction:
    amount = _check_quantity(quantity, "quantity")
    return cost_for(amount, price.input_nanos, _divisor(price))


def unit_cost(price: PriceInfo, quantity: int | Fraction) -> int:
    """Cost in nanos of ``quantity`` measured units (see the table above), rounded up once."""
    return round_cost(exact_unit_cost(price, quantity))


def require_price(model: PricedModel) -> PriceInfo:
    """The model's price, checked to fit its endpoint.

    Raises ``PricingError`` ``PRICING_MISSING`` when the model has no price and
    ``INVALID_PRICING`` when its unit cannot bill the endpoint (a chat model priced per image).
    """
    price = model.pricing
    if price is None:
        raise PricingError(f"Model {model.slug!r} has no price configured.", code="PRICING_MISSING")
    allowed = UNITS_BY_ENDPOINT.get(model.endpoint, frozenset())
    if price.unit not in allowed:
        raise PricingError(
            f"Model {model.slug!r} is priced {price.unit}, which cannot bill the {model.endpoint} endpoint.",
            code="INVALID_PRICING",
        )
    return price


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


def price_text(price: PriceInfo, endpoint: str) -> str:
    """A one-line human description of a price, exact to the nano: ``"$0.006 per minute of
    audio, billed per second"``, ``"$0.00015 per 1K input tokens and $0.0006 per 1K output tokens"``."""
    amount = _usd_display(price.input_nanos)
    medium = "video" if endpoint == "video" else "audio"
    if price.unit == "per_1k_tokens":
        if price.output_nanos:
            return f"{amount} per 1K input tokens and {_usd_display(price.output_nanos)} per 1K output tokens"
        return f"{amount} per 1K input tokens"
    texts = {
        "per_image": f"{amount} per image",
        "per_second": f"{amount} per second of {medium}",
        "per_minute": f"{amount} per minute of {medium}, billed per second",
        "per_character": f"{amount} per character",
        "per_1k_characters": f"{amount} per 1K characters",
        "per_request": f"{amount} per request",
    }
    try:
        return texts[price.unit]
    except KeyError:
        raise PricingError(f"Unknown price unit {price.unit!r}.", code="INVALID_PRICING") from None


def _decimal(text: str | None) -> orjson.Fragment | None:
    return None if text is None else orjson.Fragment(text.encode())


def catalog_pricing_json(model: PricedModel) -> dict[str, Any]:
    """``{"slug", "input_price", "output_price", "price_unit"}``; prices are exact JSON numbers
    written from their decimal text, never through a float (all ``None`` when unpriced)."""
    price = model.pricing
    if price is None:
        return {"slug": model.slug, "input_price": None, "output_price": None, "price_unit": None}
    return {
        "slug": model.slug,
        "input_price": money(price.input_nanos),
        "output_price": money(price.output_nanos),
        "price_unit": price.unit,
    }


def billing_json(model: PricedModel, cost_nanos: int) -> dict[str, Any]:
    """The ``billing`` object added to every successful response (exact JSON numbers)."""
    price = model.pricing
    return {
        "cost_usd": money(cost_nanos),
        "input_price_per_1k": _decimal(price_per_1k_display(price, "input")) if price else None,
        "output_price_per_1k": _decimal(price_per_1k_display(price, "output")) if price else None,
        "catalog_pricing": catalog_pricing_json(model),
    }


__all__ = [
    "PricedModel",
    "billing_json",
    "catalog_pricing_json",
    "chat_cost",
    "exact_chat_cost",
    "exact_unit_cost",
    "price_per_1k_display",
    "price_text",
    "require_price",
    "unit_cost",
]
