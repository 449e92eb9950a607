"""How a price reads on the site: one function from a ``PriceInfo`` to the lines a page
shows, so a new price dimension (cached input, cache writes, reasoning, tiers) is added here
once and appears on the pricing page, the landing page and every model page.

Amounts stay integer nano-dollars; templates format them with the ``usd`` filter.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelsnest.catalog.types import PriceInfo

# unit → (what one priced unit is, for a given endpoint when it matters)
_UNIT_TEXT = {
    "per_1k_tokens": "1K tokens",
    "per_image": "image",
    "per_second": "second",
    "per_minute": "minute",
    "per_character": "character",
    "per_1k_characters": "1K characters",
    "per_request": "request",
}


@dataclass(frozen=True, slots=True)
class PriceLine:
    """``$<nanos> / <per>``, labelled (``Input``, ``Output``, ``Image`` …); ``scaled_nanos``
    and ``scaled_per`` give the same price at a more readable scale (per 1M tokens, per
    minute), or None."""

    label: str
    nanos: int
    per: str
    scaled_nanos: int | None = None
    scaled_per: str | None = None


def price_lines(price: PriceInfo | None, endpoint: str) -> list[PriceLine]:
    """The lines of a model's price; empty when it has none."""
    if price is None:
        return []
    medium = "video" if endpoint == "video" else "audio"
    unit = price.unit
    if unit == "per_1k_tokens":
        lines = [PriceLine("Input", price.input_nanos, "1K tokens", price.input_nanos * 1000, "1M tokens")]
        if endpoint not in ("embeddings", "rerank") or price.output_nanos:
            lines.append(
                PriceLine("Output", price.output_nanos, "1K tokens", price.output_nanos * 1000, "1M tokens")
            )
        return lines
    if unit == "per_second":
        return [
            PriceLine(
                medium.capitalize(),
                price.input_nanos,
                f"second of {medium}",
                price.input_nanos * 60,
                "minute",
            )
        ]
    if unit == "per_minute":
        return [
            PriceLine(
                medium.capitalize(), price.input_nanos, f"minute of {medium}", None, "billed per second"
            )
        ]
    if unit == "per_character":
        return [PriceLine("Text", price.input_nanos, "character", price.input_nanos * 1000, "1K characters")]
    if unit == "per_1k_characters":
        return [
            PriceLine("Text", price.input_nanos, "1K characters", price.input_nanos * 1000, "1M characters")
        ]
    if unit == "per_image":
        return [PriceLine("Image", price.input_nanos, "image")]
    if endpoint == "rerank" and unit == "per_request":
        return [PriceLine("Search", price.input_nanos, "search", price.input_nanos * 1000, "1K searches")]
    return [PriceLine("Request", price.input_nanos, _UNIT_TEXT.get(unit, unit.removeprefix("per_")))]


def unit_label(price: PriceInfo | None) -> str:
    """The billing unit in words: ``per 1K tokens``, ``per image`` …"""
    if price is None:
        return "not priced yet"
    return "per " + _UNIT_TEXT.get(price.unit, price.unit.removeprefix("per_"))


__all__ = ["PriceLine", "price_lines", "unit_label"]
