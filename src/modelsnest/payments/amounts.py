"""Top-up amounts: exact decimal USD with at most two decimals, within configured bounds.

Amounts arrive as JSON strings ("10.00") or numbers (parsed as ``Decimal``, never float, by
the caller) and leave as two-decimal strings. Anything else is a 400 naming the rule broken.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

from modelsnest.errors import InvalidRequest
from modelsnest.money import NANOS_PER_USD

CENT: Final = Decimal("0.01")
_PLAIN: Final = re.compile(r"^[0-9]+(\.[0-9]{1,2})?$")


def _bad(message: str) -> InvalidRequest:
    return InvalidRequest(message, code="INVALID_AMOUNT", param="amount_usd")


def parse_amount_usd(value: object, *, minimum: Decimal, maximum: Decimal) -> Decimal:
    """The amount as a two-decimal ``Decimal``, or InvalidRequest (400, INVALID_AMOUNT)."""
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int, Decimal)):
        raise _bad('amount_usd must be a decimal string such as "10.00"')
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-"):
            raise _bad("amount_usd must be positive")
        if not _PLAIN.match(text):
            raise _bad(
                'amount_usd must be a decimal number of dollars with at most two decimals, e.g. "10.00"'
            )
        amount = Decimal(text)
    else:
        amount = Decimal(value)
        if not amount.is_finite():
            raise _bad("amount_usd must be a finite number")
    if amount <= 0:
        raise _bad("amount_usd must be positive")
    if amount < minimum:
        raise _bad(f"the smallest top-up is ${minimum:.2f}")
    if amount > maximum:
        raise _bad(f"the largest top-up is ${maximum:.2f}")
    if amount != amount.quantize(CENT):
        raise _bad("amount_usd has more than two decimals")
    return amount.quantize(CENT)


def usd_nanos(amount: Decimal) -> int:
    """Exact nanos of a decimal amount (refuses anything finer than a nano)."""
    nanos = amount * NANOS_PER_USD
    if nanos != nanos.to_integral_value():
        raise ValueError(f"{amount} is finer than a nano-dollar")
    return int(nanos)


def nanos_decimal(nanos: int) -> Decimal:
    """Two-decimal (or finer, if needed) ``Decimal`` of an amount of nanos."""
    value = Decimal(nanos) / NANOS_PER_USD
    return value.quantize(CENT) if value == value.quantize(CENT) else value.normalize()


def usd_text(nanos: int) -> str:
    """'10.00': the wire form of an amount (two decimals)."""
    return f"{nanos_decimal(nanos):.2f}"


def provider_amount(value: object) -> Decimal | None:
    """A provider's amount string ("10.00") as a Decimal; None when absent or unreadable."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None
