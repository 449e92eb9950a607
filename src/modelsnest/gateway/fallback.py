"""Trying a model's routes in order until one answers.

A connection error, timeout, 429 or 5xx (any ``retryable`` provider error) before the first
byte reached the client moves on to the next route; a request the upstream calls malformed
(400-class) is the client's error and is returned at once. When every route failed the
client gets 502, or 504 when the last failure was a timeout, with that failure summarized.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from modelsnest.errors import InvalidRequest, UpstreamError, UpstreamTimeout
from modelsnest.gateway.routing import CircuitBreaker
from modelsnest.providers.errors import ProviderBadRequest, ProviderError, ProviderTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Served:
    """Which route answered."""

    provider_name: str
    upstream_model: str
    attempts: int


def _summary(exc: ProviderError) -> str:
    status = f" (HTTP {exc.status})" if exc.status else ""
    return f"{type(exc).__name__}{status}: {exc.message}"[:300]


async def first_success(
    routes: Sequence[Any],
    breaker: CircuitBreaker,
    rng: Any,
    call: Callable[[Any], Awaitable[T]],
) -> tuple[T, Served]:
    """``call(route)`` on each route in order; return the first result and who served it."""
    ordered = breaker.order(routes, rng)
    if not ordered:
        raise UpstreamError("every provider for this model is temporarily unavailable (circuit open)")
    last: ProviderError | None = None
    for attempt, route in enumerate(ordered, start=1):
        try:
            result = await call(route)
        except ProviderBadRequest as exc:
            raise InvalidRequest(
                f"upstream rejected the request: {exc.message}", code="UPSTREAM_BAD_REQUEST"
            ) from exc
        except ProviderError as exc:
            breaker.record_failure(route.provider_id, _summary(exc))
            log.warning("route %s/%s failed: %s", route.provider.name, route.upstream_model, _summary(exc))
            last = exc
            continue
        breaker.record_success(route.provider_id)
        return result, Served(route.provider.name, route.upstream_model, attempt)
    assert last is not None
    message = f"all {len(ordered)} route(s) failed; last: {_summary(last)}"
    if isinstance(last, ProviderTimeout):
        raise UpstreamTimeout(message)
    raise UpstreamError(message)
