"""The filters every page shows money, dates and numbers with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from modelsnest.web.templating import ago_tag, balance, datetime_tag, number, relative, sentence, usd

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_costs_are_exact_and_balances_show_cents_cut_toward_zero() -> None:
    assert usd(12_345_678_000) == "$12.345678"
    assert usd(123_456) == "$0.000123456"
    assert usd(1_234_560_000_000) == "$1,234.56"
    assert str(balance(1_234_560_000_000)) == "<span>$1,234.56</span>"
    assert str(balance(24_999_873_412)) == '<span title="Exactly $24.999873412">$24.99</span>'
    assert usd(None) == "—"


def test_a_float_never_reaches_a_money_filter() -> None:
    with pytest.raises(TypeError):
        usd(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        balance(True)  # type: ignore[arg-type]


def test_times_are_utc_in_the_markup_with_utc_on_hover() -> None:
    html = str(datetime_tag(datetime(2026, 11, 25, 10, 30, tzinfo=UTC)))
    assert 'datetime="2026-11-25T10:30:00Z"' in html and 'title="2026-11-25 10:30:00 UTC"' in html
    assert 'data-local="datetime"' in html
    with pytest.raises(ValueError):
        datetime_tag(datetime(2026, 11, 25, 10, 30))  # naive


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=10), "just now"),
        (timedelta(minutes=3), "3 min ago"),
        (timedelta(hours=5), "5 h ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=2), "2 days ago"),
        (timedelta(days=-4), "in 4 days"),
        (timedelta(days=45), "Oct 11, 2026"),
    ],
)
def test_relative_times(delta: timedelta, text: str) -> None:
    assert relative(NOW - delta, NOW) == text


def test_never_used_says_so() -> None:
    assert "Never" in str(ago_tag(None))


def test_numbers_and_sentences() -> None:
    assert number(1234567) == "1,234,567"
    assert sentence("too many attempts") == "Too many attempts."
    assert sentence("Done!") == "Done!"
