"""Latency histograms with fixed, roughly log-scale buckets: each hour's successful requests
are counted per bucket, buckets add up across hours, models and providers, and the median
(or any quantile) is estimated by interpolating inside the bucket it falls in.

Why not a t-digest: fixed buckets are plain integer columns that any SQL database sums, they
merge exactly, and the estimate's error is bounded by the bucket's width (about ±20 % here),
which is what a status page needs. The last bucket is open-ended and reports its lower bound.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from typing import Final

# Upper bounds (exclusive, milliseconds) of every bucket but the last; bucket i holds
# [BOUNDS[i-1], BOUNDS[i]). Steps of about 1.4× from 10 ms to 10 minutes.
BOUNDS_MS: Final[tuple[int, ...]] = (
    10, 15, 20, 30, 40, 60, 80, 110, 150, 200, 280, 400, 560, 800, 1_100, 1_500, 2_000,
    2_800, 4_000, 5_600, 8_000, 11_000, 15_000, 20_000, 28_000, 40_000, 60_000, 90_000,
    150_000, 300_000, 600_000,
)  # fmt: skip
BUCKETS: Final = len(BOUNDS_MS) + 1


def bucket_of(latency_ms: int) -> int:
    """The bucket a latency falls in (negative values count as 0 ms)."""
    return bisect_right(BOUNDS_MS, max(0, latency_ms))


def bucket_range(bucket: int) -> tuple[int, int | None]:
    """``(low, high)`` in ms of a bucket; ``high`` is None for the open last bucket."""
    if not 0 <= bucket < BUCKETS:
        raise ValueError(f"no latency bucket {bucket}")
    low = BOUNDS_MS[bucket - 1] if bucket else 0
    high = BOUNDS_MS[bucket] if bucket < len(BOUNDS_MS) else None
    return low, high


def quantile_ms(counts: Mapping[int, int] | Sequence[int], q: float) -> int | None:
    """The ``q`` quantile (0 < q < 1) of the latencies counted in ``counts`` (bucket → count,
    or a list indexed by bucket), interpolated linearly inside its bucket; None when empty."""
    if not 0 < q < 1:
        raise ValueError("q must be between 0 and 1")
    by_bucket = dict(enumerate(counts)) if isinstance(counts, Sequence) else dict(counts)
    total = sum(n for n in by_bucket.values() if n > 0)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for bucket in sorted(by_bucket):
        count = by_bucket[bucket]
        if count <= 0:
            continue
        if seen + count >= rank:
            low, high = bucket_range(bucket)
            if high is None:
                return low
            return round(low + (high - low) * (rank - seen) / count)
        seen += count
    raise AssertionError("unreachable: the rank lies within the total")


def median_ms(counts: Mapping[int, int] | Sequence[int]) -> int | None:
    return quantile_ms(counts, 0.5)


__all__ = ["BOUNDS_MS", "BUCKETS", "bucket_of", "bucket_range", "median_ms", "quantile_ms"]
