"""Latency buckets: every value lands in exactly one bucket, and quantiles estimated from the
counts stay within the bucket that holds the true value."""

from __future__ import annotations

import random

import pytest

from modelsnest.health.latency import BOUNDS_MS, BUCKETS, bucket_of, bucket_range, median_ms, quantile_ms


def test_buckets_cover_every_latency_once() -> None:
    assert list(BOUNDS_MS) == sorted(set(BOUNDS_MS))
    assert bucket_of(0) == 0 and bucket_of(-5) == 0
    assert bucket_of(9) == 0 and bucket_of(10) == 1
    assert bucket_of(10**9) == BUCKETS - 1
    for value in (1, 57, 399, 400, 4_321, 599_999, 600_000):
        low, high = bucket_range(bucket_of(value))
        assert low <= value and (high is None or value < high)
    with pytest.raises(ValueError):
        bucket_range(BUCKETS)


def test_empty_histogram_has_no_median() -> None:
    assert median_ms({}) is None and median_ms([0] * BUCKETS) is None


def test_median_of_one_bucket_interpolates_inside_it() -> None:
    counts = {bucket_of(500): 10}
    low, high = bucket_range(bucket_of(500))
    assert median_ms(counts) == round(low + (high or low) / 2 - low / 2)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_estimates_stay_within_the_true_values_bucket(seed: int) -> None:
    rng = random.Random(seed)
    values = sorted(int(rng.lognormvariate(6, 1)) for _ in range(5001))
    counts = [0] * BUCKETS
    for value in values:
        counts[bucket_of(value)] += 1
    for q in (0.5, 0.9, 0.99):
        true = values[int(q * (len(values) - 1))]
        low, high = bucket_range(bucket_of(true))
        estimate = quantile_ms(counts, q)
        assert estimate is not None and low <= estimate <= (high or low), (q, true, estimate)
    with pytest.raises(ValueError):
        quantile_ms(counts, 1.0)


def test_open_last_bucket_reports_its_lower_bound() -> None:
    assert median_ms({BUCKETS - 1: 3}) == BOUNDS_MS[-1]
