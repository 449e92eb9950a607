"""Money strings are exact: ``usd_str`` (integer arithmetic, on every answer) prints the same
digits as the exact Decimal of ``nanos_to_usd`` for any amount, without an exponent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelsnest.money import NANOS_PER_USD, nanos_to_usd, usd_str


@pytest.mark.parametrize(
    ("nanos", "shown"),
    [
        (0, "0"),
        (1, "0.000000001"),
        (-1, "-0.000000001"),
        (12_500_000_000, "12.5"),
        (100 * NANOS_PER_USD, "100"),
        (-100 * NANOS_PER_USD, "-100"),
        (123_456_789_012, "123.456789012"),
        (10**30, "1" + "0" * 21),
    ],
)
def test_usd_str_prints_plain_exact_decimals(nanos: int, shown: str) -> None:
    assert usd_str(nanos) == shown


@given(st.integers(min_value=-(10**24), max_value=10**24))
def test_usd_str_agrees_with_the_exact_decimal(nanos: int) -> None:
    shown = usd_str(nanos)
    assert "e" not in shown.lower()
    assert Decimal(shown) == nanos_to_usd(nanos) == Decimal(nanos) / NANOS_PER_USD
    assert shown == format(nanos_to_usd(nanos), "f")
