"""``RateLimits.hit``: the generic counter the account pages throttle with."""

from __future__ import annotations

import pytest

from modelsnest.errors import RateLimited
from modelsnest.gateway.limits import RateLimits


async def _exhaust(limits: RateLimits, key: str) -> None:
    for _ in range(3):
        await limits.hit("login:account", key, 3)
    # The sliding window may let one more through when the minute turns between two hits.
    with pytest.raises(RateLimited) as error:
        for _ in range(3):
            await limits.hit("login:account", key, 3)
    assert 1 <= error.value.retry_after <= 60


async def test_in_memory_counts_per_namespace_and_key() -> None:
    limits = RateLimits(None, "t:")
    await _exhaust(limits, "ann")
    await limits.hit("login:account", "bob", 3)  # another key
    await limits.hit("login:ip", "ann", 3)  # another namespace


@pytest.mark.redis
async def test_redis_counts_are_shared_by_every_replica(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio as aioredis

    clients = [aioredis.Redis.from_url(redis_url), aioredis.Redis.from_url(redis_url)]
    one, two = (RateLimits(redis_url, redis_prefix, client) for client in clients)
    try:
        await one.hit("login:account", "shared", 3)
        await two.hit("login:account", "shared", 3)
        await one.hit("login:account", "shared", 3)
        with pytest.raises(RateLimited):
            for _ in range(3):
                await two.hit("login:account", "shared", 3)
    finally:
        for client in clients:
            await client.aclose()
