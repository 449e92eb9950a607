"""Exact money.

Every amount in Modelsnest is an ``int`` of nano-dollars (1 USD = 10**9 nanos): exact on every
database as a BIGINT, no float anywhere. Prices are stored the same way, per price unit
(per 1k tokens, per image, per second, …).

Rounding rule (the only one): a request's cost is computed exactly as a rational number from
its quantities and unit prices — the sum of every price dimension's exact subtotal (input,
cached input, cache writes, output, reasoning, audio, image variant: ``catalog.pricing``) —
then rounded **up** once, at settlement, to a whole nano-dollar: one rounding per request, of
the sum, never per dimension. Rounding up means no non-zero usage is ever free, and it never
overcharges by more than $0.000000001 per request. A request's upstream cost (a route's cost
price applied to the same usage) is rounded the same way.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from fractions import Fraction

NANOS_PER_USD = 10**9
_NANO = Decimal("0.000000001")


class InvalidAmount(ValueError):
    """A money amount that is not a finite decimal number of USD with at most 9 decimals."""


def usd_to_nanos(value: str | int | Decimal) -> int:
    """Parse an exact USD amount ('12.50', 3, Decimal('0.0001')) into nanos. Floats are refused."""
    if isinstance(value, (bool, float)):
        raise InvalidAmount("amounts must be given as decimal strings, never floats")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise InvalidAmount(f"not a number: {value!r}") from exc
    if not amount.is_finite():
        raise InvalidAmount(f"not a finite amount: {value!r}")
    nanos = amount * NANOS_PER_USD
    if nanos != nanos.to_integral_value():
        raise InvalidAmount(f"more precision than a nano-dollar: {value!r}")
    return int(nanos)


def nanos_to_usd(nanos: int) -> Decimal:
    """Exact Decimal USD for an amount of nanos (at most 9 decimals, trailing zeros removed)."""
    value = (Decimal(nanos) / NANOS_PER_USD).quantize(_NANO)
    normalized = value.normalize()
    # normalize() turns 100 into 1E+2; keep a plain exponent for display and JSON.
    exponent = normalized.as_tuple().exponent
    return normalized if isinstance(exponent, int) and exponent <= 0 else value.quantize(Decimal(1))


def usd_str(nanos: int) -> str:
    """Plain decimal string of the USD amount, no exponent: '0.000000001', '12.5', '100'.
    Integer arithmetic (every answer prints a few of these; Decimal costs 5× as much)."""
    whole, fraction = divmod(abs(nanos), NANOS_PER_USD)
    sign = "-" if nanos < 0 else ""
    if not fraction:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:09d}".rstrip("0")


def format_usd(nanos: int, places: int = 2) -> str:
    """Human display: '$12.50'. Shows more places when the amount needs them (never rounds away)."""
    value = nanos_to_usd(nanos)
    exponent = value.as_tuple().exponent
    digits = max(places, -exponent if isinstance(exponent, int) else places)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{digits}f}"


def format_balance(nanos: int) -> str:
    """A balance for display: whole cents, '$1,234.56', cut toward zero (a balance never looks
    bigger than it is). Show ``format_usd`` next to it where the exact amount matters."""
    value = (Decimal(nanos) / NANOS_PER_USD).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def round_cost(exact_nanos: Fraction) -> int:
    """The single rounding step: an exact rational cost in nanos → whole nanos, rounded up."""
    if exact_nanos <= 0:
        return 0
    return -(-exact_nanos.numerator // exact_nanos.denominator)


def cost_for(quantity: int | Fraction, price_nanos: int, per: int = 1) -> Fraction:
    """Exact cost of ``quantity`` units at ``price_nanos`` per ``per`` units (e.g. per 1000 tokens)."""
    return Fraction(quantity) * price_nanos / per
