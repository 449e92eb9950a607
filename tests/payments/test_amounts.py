"""Top-up amounts are exact two-decimal dollars within the bounds (payments/amounts.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from modelsnest.errors import InvalidRequest
from modelsnest.payments.amounts import nanos_decimal, parse_amount_usd, usd_nanos, usd_text

BOUNDS = {"minimum": Decimal("5"), "maximum": Decimal("10000")}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", "10.00"),
        ("10.5", "10.50"),
        ("10.50", "10.50"),
        (" 7.25 ", "7.25"),
        (12, "12.00"),
        (Decimal("19.90"), "19.90"),
        (Decimal("5.000"), "5.00"),
        ("10000", "10000.00"),
        ("5", "5.00"),
    ],
)
def test_good_amounts_become_two_decimal_decimals(value: object, expected: str) -> None:
    assert f"{parse_amount_usd(value, **BOUNDS):.2f}" == expected


@pytest.mark.parametrize(
    "value",
    [
        "-1",
        "0",
        "0.00",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e3",
        "10.005",
        "10,00",
        "$10",
        "",
        " ",
        "4.99",
        "10000.01",
        True,
        False,
        None,
        10.5,
        [],
        {},
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("10.001"),
        10**30,
    ],
)
def test_bad_amounts_are_refused_with_a_clear_message(value: object) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_amount_usd(value, **BOUNDS)
    assert (refused.value.code, refused.value.param) == ("INVALID_AMOUNT", "amount_usd")


def test_nanos_round_trip_exactly() -> None:
    assert usd_nanos(Decimal("10.01")) == 10_010_000_000
    assert usd_text(10_010_000_000) == "10.01"
    assert nanos_decimal(1) == Decimal("0.000000001")
    with pytest.raises(ValueError):
        usd_nanos(Decimal("0.0000000001"))
