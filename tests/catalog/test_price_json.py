"""Exact USD in responses: the fast path for common amounts writes what the general one does."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import orjson
from hypothesis import given
from hypothesis import strategies as st

from modelsnest.catalog.price_json import exact_decimal, exact_usd
from modelsnest.money import NANOS_PER_USD

nanos = st.integers(min_value=-(10**18), max_value=10**18)
# Per-1K prices make denominators dividing 1000; per-minute prices (60) and odd ones do not.
denominators = st.sampled_from([1, 2, 8, 125, 1000, 10**6, 3, 7, 60, 600_000])


def _general(value: Fraction | int) -> bytes:
    return orjson.dumps(exact_decimal(Fraction(value) / NANOS_PER_USD))


@given(nanos)
def test_whole_nanos_are_written_as_the_general_path_writes_them(value: int) -> None:
    assert orjson.dumps(exact_usd(value)) == _general(value)


@given(nanos, denominators)
def test_fractions_of_nanos_are_written_as_the_general_path_writes_them(
    numerator: int, denominator: int
) -> None:
    value = Fraction(numerator, denominator)
    assert orjson.dumps(exact_usd(value)) == _general(value)


def test_amounts_read_as_plain_decimals() -> None:
    assert orjson.dumps(exact_usd(15_000)) == b"0.000015"
    assert orjson.dumps(exact_usd(Fraction(15, 1000))) == b"0.000000000015"
    assert orjson.dumps(exact_usd(-2_500_000_000)) == b"-2.5"
    assert orjson.dumps(exact_usd(0)) == b"0"
    assert exact_usd(Fraction(1, 3)) == "1/3000000000"


@given(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=0, max_value=25),
    st.integers(min_value=0, max_value=25),
)
def test_terminating_rationals_read_as_python_decimal_prints_them(
    numerator: int, twos: int, fives: int
) -> None:
    value = Fraction(numerator, 2**twos * 5**fives)
    with localcontext() as exact:
        exact.prec = 200
        expected = Decimal(value.numerator) / Decimal(value.denominator)
    text = format(expected.normalize(), "f") if expected else "0"
    assert orjson.dumps(exact_decimal(value)) == text.encode()
