"""How a price reads on the site: the same lines everywhere, exact, with a readable scale."""

from __future__ import annotations

from modelsnest.catalog.types import PriceInfo
from modelsnest.web.pricing import price_lines, unit_label


def test_token_prices_read_per_1k_and_per_1m() -> None:
    lines = price_lines(PriceInfo("per_1k_tokens", 270, 1100), "chat")
    assert [(p.label, p.nanos, p.per, p.scaled_nanos, p.scaled_per) for p in lines] == [
        ("Input", 270, "1K tokens", 270_000, "1M tokens"),
        ("Output", 1100, "1K tokens", 1_100_000, "1M tokens"),
    ]
    assert [p.label for p in price_lines(PriceInfo("per_1k_tokens", 20, 0), "embeddings")] == ["Input"]


def test_media_prices_name_their_unit() -> None:
    assert price_lines(PriceInfo("per_image", 40_000_000), "images")[0].per == "image"
    second = price_lines(PriceInfo("per_second", 50_000_000), "video")[0]
    assert (second.per, second.scaled_nanos, second.scaled_per) == (
        "second of video",
        3_000_000_000,
        "minute",
    )
    minute = price_lines(PriceInfo("per_minute", 6_000_000), "transcription")[0]
    assert (minute.per, minute.scaled_per) == ("minute of audio", "billed per second")
    chars = price_lines(PriceInfo("per_1k_characters", 100_000_000), "speech")[0]
    assert (chars.per, chars.scaled_nanos) == ("1K characters", 100_000_000_000)
    assert price_lines(PriceInfo("per_request", 5), "chat")[0].per == "request"
    assert price_lines(None, "chat") == []
    assert unit_label(None) == "not priced yet" and unit_label(PriceInfo("per_image", 1)) == "per image"
