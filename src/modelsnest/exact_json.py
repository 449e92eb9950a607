"""JSON for the API (orjson) with exact money: amounts are written as JSON numbers from
their exact decimal text (``orjson.Fragment``), never through a float."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import orjson

from modelsnest.money import usd_str


def money(nanos: int) -> orjson.Fragment:
    return orjson.Fragment(usd_str(nanos).encode())


def decimal_text(value: Fraction | int, places: int = 3) -> str:
    value = Fraction(value)
    return format(round(Decimal(value.numerator) / Decimal(value.denominator), places), "f")


def number(value: Fraction | int, places: int = 3) -> orjson.Fragment:
    """A non-money quantity (seconds, …) as a JSON number with at most ``places`` decimals."""
    return orjson.Fragment(decimal_text(value, places).encode())


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
