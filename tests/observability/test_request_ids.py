"""Request ids are unique in the usage log: none repeats, even after someone reseeds the
module-level ``random`` (test frameworks do; schemathesis once made two requests share one)."""

from __future__ import annotations

import random

from modelsnest.observability.middleware import new_request_id


def test_request_ids_do_not_follow_the_global_random_seed() -> None:
    random.seed(0)
    first = new_request_id()
    random.seed(0)
    assert new_request_id() != first


def test_request_ids_are_128_random_bits_and_never_repeat() -> None:
    ids = {new_request_id() for _ in range(100_000)}
    assert len(ids) == 100_000
    assert all(i.startswith("req_") and len(i) == 36 for i in list(ids)[:100])
