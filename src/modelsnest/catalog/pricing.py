"""Exact cost of a request, for every modality, by price dimension.

Quantities are the *measured* amounts, in the natural unit of each price unit:

=====================  ======================  ==========================================
price unit             quantity given          cost of one dimension (exact)
=====================  ======================  ==========================================
``per_1k_tokens``      tokens                  tokens × price / 1000
``per_image``          images                  images × price (of the image's variant)
``per_second``         seconds (may be exact)  seconds × price
``per_minute``         seconds (may be exact)  seconds × price / 60 (no whole-minute rounding)
``per_character``      characters              characters × price
``per_1k_characters``  characters              characters × price / 1000
``per_request``        requests                requests × price
=====================  ======================  ==========================================

**Dimensions.** A token price has a base input and output price and may price further
dimensions apart (``catalog.types.PRICE_DIMENSIONS``): cached input (cache reads), cache
writes (5-minute; 1-hour), reasoning output, audio input and output. :func:`bill` splits the
upstream's reported usage (``providers.types.Usage``, OpenAI's convention: the details are
parts of ``prompt_tokens``/``completion_tokens``) into those dimensions: plain input =
prompt − cached − cache writes − audio input, plain output = completion − reasoning − audio
output. A dimension the price does not set is billed at the price it falls back to
(``PRICED_AS``: cached and cache-write tokens as input, reasoning and audio output as output),
and its line says so (``priced_as``).

**Context tiers.** A component with ``above_input_tokens = N`` prices its dimension for every
token of a request whose ``prompt_tokens`` exceed N (Gemini 2.5 Pro: input, output and cache
reads cost more above 200k input tokens). The request's tier is the highest threshold its
input exceeds; each dimension takes its price from the highest tier at or below that which
prices it, so a tier need only list what changes.

**Images** are priced per image, by variant (``size/quality`` or ``size``) when the price has
image variants, else by its one per-image price; see :func:`image_variant`.

**Rounding: one rounding per request, of the sum.** Every dimension's subtotal is an exact
``Fraction`` of nanos; the request's cost is their sum, rounded **up** once to a whole
nano-dollar (``money.round_cost``). No subtotal is rounded on its own, so no non-zero usage
is free and no request is overcharged by a nano-dollar or more. The upstream cost of a request
(a route's cost price applied to the same usage) follows the same rule, so a request's margin
is the difference of two integers.

**Holds** (:func:`hold_cost`) charge every prompt token at the most expensive input dimension
of the tier the prompt estimate falls in (a cache write costs more than plain input) and
every output token at the most expensive output dimension: whatever split the upstream then
reports, the bill cannot exceed the hold for the same token counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from modelsnest.catalog.price_json import (
    billing_json,
    breakdown_json,
    catalog_pricing_json,
    cost_details_json,
    price_json,
    price_per_1k_display,
    price_text,
)
from modelsnest.catalog.types import (
    INPUT_DIMENSIONS,
    OUTPUT_DIMENSIONS,
    UNITS_BY_ENDPOINT,
    PriceComponent,
    PriceInfo,
)
from modelsnest.errors import InvalidRequest, PricingError
from modelsnest.money import cost_for, round_cost
from modelsnest.providers.types import Usage

# price unit → how many units of the measured quantity one priced unit covers.
DIVISORS = {
    "per_1k_tokens": 1000,
    "per_image": 1,
    "per_second": 1,
    "per_minute": 60,
    "per_character": 1,
    "per_1k_characters": 1000,
    "per_request": 1,
}
AUTO_QUALITY = "auto"


class PricedModel(Protocol):
    """Anything with a slug, an endpoint and an optional price (``ModelInfo`` is one)."""

    @property
    def slug(self) -> str: ...

    @property
    def endpoint(self) -> str: ...

    @property
    def pricing(self) -> PriceInfo | None: ...


@dataclass(frozen=True, slots=True)
class CostLine:
    """One dimension of a bill: ``quantity`` at ``unit_price_nanos`` per ``per`` units (the
    price ``unit``: per 1k tokens, per image …), priced as ``priced_as`` (itself, or the
    dimension it falls back to), at the context ``tier`` and image ``variant`` that applied."""

    dimension: str
    quantity: int | Fraction
    unit_price_nanos: int
    per: int
    priced_as: str
    unit: str
    variant: str = ""
    tier: int = 0

    @property
    def exact_nanos(self) -> Fraction:
        return cost_for(self.quantity, self.unit_price_nanos, self.per)

    def as_record(self) -> dict[str, Any]:
        """JSON-safe (ints and strings): what the usage row stores, read back by ``from_record``."""
        quantity = self.quantity
        record: dict[str, Any] = {
            "dimension": self.dimension,
            "quantity": quantity if isinstance(quantity, int) else str(quantity),
            "unit_price_nanos": self.unit_price_nanos,
            "per": self.per,
            "unit": self.unit,
            "exact_nanos": str(self.exact_nanos),
        }
        if self.priced_as != self.dimension:
            record["priced_as"] = self.priced_as
        if self.variant:
            record["variant"] = self.variant
        if self.tier:
            record["tier"] = self.tier
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CostLine:
        quantity = record["quantity"]
        return cls(
            dimension=str(record["dimension"]),
            quantity=quantity if isinstance(quantity, int) else Fraction(str(quantity)),
            unit_price_nanos=int(record["unit_price_nanos"]),
            per=int(record["per"]),
            priced_as=str(record.get("priced_as") or record["dimension"]),
            unit=str(record.get("unit") or ""),
            variant=str(record.get("variant") or ""),
            tier=int(record.get("tier") or 0),
        )


@dataclass(frozen=True, slots=True)
class Costing:
    """A request's bill: its lines, their exact sum and the one rounding of it."""

    unit: str
    lines: tuple[CostLine, ...] = ()
    version_id: int | None = None
    tier: int = 0
    exact_nanos: Fraction = field(init=False)
    cost_nanos: int = field(init=False)

    def __post_init__(self) -> None:
        exact = sum((line.exact_nanos for line in self.lines), Fraction(0))
        object.__setattr__(self, "exact_nanos", exact)
        object.__setattr__(self, "cost_nanos", round_cost(exact))

    def as_record(self) -> list[dict[str, Any]]:
        return [line.as_record() for line in self.lines]


def _check_quantity(quantity: int | Fraction, what: str) -> int | Fraction:
    if isinstance(quantity, bool) or not isinstance(quantity, (int, Fraction)):
        raise TypeError(f"{what} must be an int or a Fraction, not {type(quantity).__name__}")
    if quantity < 0:
        raise ValueError(f"{what} cannot be negative")
    return quantity


def _divisor(price: PriceInfo) -> int:
    try:
        return DIVISORS[price.unit]
    except KeyError:
        raise PricingError(f"Unknown price unit {price.unit!r}.", code="INVALID_PRICING") from None


def _per_request(price: PriceInfo) -> Costing:
    line = CostLine("request", 1, price.input_nanos, 1, "request", price.unit)
    return Costing(price.unit, (line,), price.version_id)


def _token_quantities(usage: Usage) -> list[tuple[str, int]]:
    """Usage split into billable dimensions (OpenAI's convention: details are parts of totals)."""
    prompt = _check_quantity(usage.prompt_tokens, "prompt_tokens")
    completion = _check_quantity(usage.completion_tokens, "completion_tokens")
    details = {
        name: int(_check_quantity(getattr(usage, name), name))
        for name in (
            "cached_tokens",
            "cache_write_tokens",
            "cache_write_1h_tokens",
            "audio_input_tokens",
            "reasoning_tokens",
            "audio_output_tokens",
        )
    }
    write_1h = min(details["cache_write_1h_tokens"], details["cache_write_tokens"])
    write_5m = details["cache_write_tokens"] - write_1h
    cached, audio_in = details["cached_tokens"], details["audio_input_tokens"]
    reasoning, audio_out = details["reasoning_tokens"], details["audio_output_tokens"]
    return [
        ("input", max(0, int(prompt) - cached - write_5m - write_1h - audio_in)),
        ("cached_input", cached),
        ("cache_write", write_5m),
        ("cache_write_1h", write_1h),
        ("audio_input", audio_in),
        ("output", max(0, int(completion) - reasoning - audio_out)),
        ("reasoning", reasoning),
        ("audio_output", audio_out),
    ]


def bill(price: PriceInfo, usage: Usage) -> Costing:
    """The exact bill of a token request (chat, embeddings) for the upstream's reported usage:
    one line per dimension with tokens (quantity, unit price, exact subtotal) and the cost,
    rounded up once. A ``per_request`` price bills one request whatever the tokens."""
    quantities = _token_quantities(usage)
    if price.unit == "per_request":
        return _per_request(price)
    if price.unit != "per_1k_tokens":
        raise PricingError(f"A token-billed request cannot use a price {price.unit}.", code="INVALID_PRICING")
    tier = price.tier_for(usage.prompt_tokens)
    lines = []
    for dimension, quantity in quantities:
        if quantity:
            nanos, priced_as, used_tier = price.price_of(dimension, tier)
            lines.append(CostLine(dimension, quantity, nanos, 1000, priced_as, price.unit, tier=used_tier))
    return Costing(price.unit, tuple(lines), price.version_id, tier)


def hold_cost(price: PriceInfo, prompt_tokens: int, output_tokens: int) -> int:
    """An upper bound of :func:`bill` for any usage with at most these token counts (see the
    module docstring), rounded up once."""
    _check_quantity(prompt_tokens, "prompt_tokens")
    _check_quantity(output_tokens, "output_tokens")
    if price.unit == "per_request":
        return price.input_nanos
    if price.unit != "per_1k_tokens":
        raise PricingError(f"A token-billed request cannot use a price {price.unit}.", code="INVALID_PRICING")
    tier = price.tier_for(prompt_tokens)
    top_input = max(price.price_of(d, tier)[0] for d in INPUT_DIMENSIONS)
    top_output = max(price.price_of(d, tier)[0] for d in OUTPUT_DIMENSIONS)
    return round_cost(cost_for(prompt_tokens, top_input, 1000) + cost_for(output_tokens, top_output, 1000))


def image_variant(price: PriceInfo, size: str, quality: str | None) -> PriceComponent | None:
    """The variant an image of ``size`` and ``quality`` is billed at; None when the price has
    no image variants (one per-image price for every size and quality).

    With a quality (other than ``auto``): ``size/quality``, else ``size`` (any quality).
    Without one (or ``auto``, the upstream chooses): ``size``, else the most expensive
    ``size/…`` variant, an upper bound until the upstream says which quality it made.
    A size or quality the price does not cover is the client's error (400)."""
    variants = price.image_variants()
    if not variants:
        return None
    by_name = {c.variant: c for c in variants}
    if quality and quality != AUTO_QUALITY:
        found = by_name.get(f"{size}/{quality}") or by_name.get(size)
    else:
        found = by_name.get(size) or max(
            (c for c in variants if c.variant.startswith(f"{size}/")),
            key=lambda c: c.price_nanos,
            default=None,
        )
    if found is None:
        asked = f"{size} at quality {quality}" if quality and quality != AUTO_QUALITY else size
        priced = ", ".join(sorted(by_name))
        raise InvalidRequest(
            f"this model does not price images of {asked}; priced variants (size/quality): {priced}",
            code="IMAGE_VARIANT_NOT_PRICED",
            param="quality" if quality and f"{size}/" in " ".join(by_name) else "size",
        )
    return found


def bill_images(price: PriceInfo, count: int, *, size: str, quality: str | None = None) -> Costing:
    """``count`` images of ``size``/``quality`` (see :func:`image_variant`)."""
    _check_quantity(count, "count")
    if price.unit == "per_request":
        return _per_request(price)
    if price.unit != "per_image":
        raise PricingError(f"An image request cannot use a price {price.unit}.", code="INVALID_PRICING")
    variant = image_variant(price, size, quality)
    nanos = price.input_nanos if variant is None else variant.price_nanos
    name = "" if variant is None else variant.variant
    lines = (CostLine("image", count, nanos, 1, "image", price.unit, name),) if count else ()
    return Costing(price.unit, lines, price.version_id)


def bill_units(price: PriceInfo, quantity: int | Fraction, *, dimension: str = "input") -> Costing:
    """``quantity`` measured units (seconds, characters, images, requests) at the price's one
    per-unit price; ``dimension`` names the line (``audio_seconds``, ``characters`` …)."""
    amount = _check_quantity(quantity, "quantity")
    divisor = _divisor(price)
    lines = (
        (CostLine(dimension, amount, price.input_nanos, divisor, dimension, price.unit),) if amount else ()
    )
    return Costing(price.unit, lines, price.version_id)


def exact_chat_cost(price: PriceInfo, prompt_tokens: int, completion_tokens: int) -> Fraction:
    return bill(price, Usage(prompt_tokens, completion_tokens)).exact_nanos


def chat_cost(price: PriceInfo, prompt_tokens: int, completion_tokens: int) -> int:
    """Cost in nanos of plain input/output tokens (no details), rounded up once."""
    return bill(price, Usage(prompt_tokens, completion_tokens)).cost_nanos


def exact_unit_cost(price: PriceInfo, quantity: int | Fraction) -> Fraction:
    return bill_units(price, quantity).exact_nanos


def unit_cost(price: PriceInfo, quantity: int | Fraction) -> int:
    """Cost in nanos of ``quantity`` measured units (see the table above), rounded up once."""
    return bill_units(price, quantity).cost_nanos


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


__all__ = [
    "DIVISORS",
    "CostLine",
    "Costing",
    "PricedModel",
    "bill",
    "bill_images",
    "bill_units",
    "billing_json",
    "breakdown_json",
    "catalog_pricing_json",
    "chat_cost",
    "cost_details_json",
    "exact_chat_cost",
    "exact_unit_cost",
    "hold_cost",
    "image_variant",
    "price_json",
    "price_per_1k_display",
    "price_text",
    "require_price",
    "unit_cost",
]
