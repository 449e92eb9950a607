"""Per-key requests/tokens per minute and per-user concurrency.

Counters live in memory for the embedded setup and in Redis when ``MODELSNEST_REDIS_URL`` is
set, so every replica shares them. Windows use the ``limits`` library's sliding-window
counter (exact enough, two keys per window, one Lua round trip on Redis).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from modelsnest.errors import RateLimited


@dataclass(frozen=True)
class LimitState:
    """What the ``X-RateLimit-*`` headers report for one request."""

    rpm_limit: int | None = None
    rpm_remaining: int | None = None
    rpm_reset_seconds: int | None = None
    tpm_limit: int | None = None
    tpm_remaining: int | None = None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.rpm_limit is not None:
            out["X-RateLimit-Limit-Requests"] = str(self.rpm_limit)
            out["X-RateLimit-Remaining-Requests"] = str(max(0, self.rpm_remaining or 0))
            out["X-RateLimit-Reset-Requests"] = f"{self.rpm_reset_seconds or 0}s"
        if self.tpm_limit is not None:
            out["X-RateLimit-Limit-Tokens"] = str(self.tpm_limit)
            out["X-RateLimit-Remaining-Tokens"] = str(max(0, self.tpm_remaining or 0))
        return out


class ConcurrencyGate:
    """Counts a user's in-flight requests (memory, or Redis INCR/DECR shared by replicas)."""

    def __init__(self, redis: Any | None, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix + "conc:"
        self._local: dict[int, int] = {}

    async def enter(self, user_id: int, limit: int) -> None:
        if self._redis is None:
            current = self._local.get(user_id, 0)
            if current >= limit:
                raise RateLimited(f"too many concurrent requests (limit {limit})", retry_after=1)
            self._local[user_id] = current + 1
            return
        key = f"{self._prefix}{user_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            # A replica that dies mid-request must not pin the counter forever.
            pipe.expire(key, 600)
            count, _ = await pipe.execute()
        if int(count) > limit:
            await self._redis.decr(key)
            raise RateLimited(f"too many concurrent requests (limit {limit})", retry_after=1)

    async def leave(self, user_id: int) -> None:
        if self._redis is None:
            remaining = self._local.get(user_id, 1) - 1
            if remaining <= 0:
                self._local.pop(user_id, None)
            else:
                self._local[user_id] = remaining
            return
        await self._redis.decr(f"{self._prefix}{user_id}")


class RateLimits:
    def __init__(self, redis_url: str | None, prefix: str, redis: Any | None = None) -> None:
        storage: Storage
        if redis_url:
            url = redis_url.replace("redis://", "async+redis://", 1).replace(
                "rediss://", "async+rediss://", 1
            )
            # Share the process's Redis client pool when there is one (closed with it on
            # shutdown) rather than opening a second pool of connections.
            pool = {"connection_pool": redis.connection_pool} if redis is not None else {}
            storage = RedisStorage(url, implementation="redispy", key_prefix=prefix + "rl", **pool)
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self.concurrency = ConcurrencyGate(redis, prefix)

    async def check_request(self, scope: str, rpm: int | None, tpm: int | None) -> LimitState:
        """Count one request against the scope's (a key's, or a user's) RPM and refuse it when the RPM or TPM window is full."""
        state = LimitState()
        if rpm:
            item = RateLimitItemPerMinute(rpm)
            allowed = await self._limiter.hit(item, "rpm", scope)
            stats = await self._limiter.get_window_stats(item, "rpm", scope)
            reset = max(1, math.ceil(stats.reset_time - time.time()))
            if not allowed:
                raise RateLimited(
                    f"rate limit of {rpm} requests per minute reached for this key", retry_after=reset
                )
            state = LimitState(rpm_limit=rpm, rpm_remaining=stats.remaining, rpm_reset_seconds=reset)
        if tpm:
            item = RateLimitItemPerMinute(tpm)
            stats = await self._limiter.get_window_stats(item, "tpm", scope)
            if stats.remaining <= 0:
                reset = max(1, math.ceil(stats.reset_time - time.time()))
                raise RateLimited(
                    f"rate limit of {tpm} tokens per minute reached for this key", retry_after=reset
                )
            state = LimitState(
                rpm_limit=state.rpm_limit,
                rpm_remaining=state.rpm_remaining,
                rpm_reset_seconds=state.rpm_reset_seconds,
                tpm_limit=tpm,
                tpm_remaining=stats.remaining,
            )
        return state

    async def hit(self, namespace: str, key: str, per_minute: int) -> None:
        """Count one event (a login attempt, a reset mail …) for ``key`` in ``namespace``;
        RateLimited (with its retry-after) once more than ``per_minute`` fell in the last minute.
        Shared by every replica when Redis is configured, like the API's limits."""
        item = RateLimitItemPerMinute(per_minute)
        if await self._limiter.hit(item, namespace, key):
            return
        stats = await self._limiter.get_window_stats(item, namespace, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(f"too many attempts: try again in {retry_after} seconds", retry_after=retry_after)

    async def add_tokens(self, scope: str, tpm: int | None, tokens: int) -> None:
        """Tokens count once their number is known (after the answer), as OpenAI's TPM does."""
        if tpm and tokens > 0:
            item = RateLimitItemPerMinute(tpm)
            if not await self._limiter.hit(item, "tpm", scope, cost=min(tokens, tpm)):
                # More tokens than the window has room for: fill it, so the next request waits.
                stats = await self._limiter.get_window_stats(item, "tpm", scope)
                if stats.remaining > 0:
                    await self._limiter.hit(item, "tpm", scope, cost=stats.remaining)
