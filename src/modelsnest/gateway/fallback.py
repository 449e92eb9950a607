"""Trying a model's routes in order until one answers.

A connection error, timeout, 429 or 5xx (any ``retryable`` provider error) before the first
byte reached the client moves on to the next route; a request the upstream calls malformed
(400-class) is the client's error and is returned at once, its message cleaned of anything
about the operator's account. When every route failed the client gets 502, or 504 when the
last failure was a timeout, or ``UpstreamOverloaded`` when it was an overloaded upstream
(Anthropic's 529 ``overloaded_error``, or a 503) or every provider's circuit is open (the
Messages API answers that 529 ``overloaded_error``, as Anthropic does); the summary of the
failures goes to the log, not to the client.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from modelsnest.catalog.types import PriceInfo
from modelsnest.errors import UpstreamError, UpstreamOverloaded, UpstreamRejected, UpstreamTimeout
from modelsnest.gateway.routing import CircuitBreaker
from modelsnest.observability import metrics
from modelsnest.providers.errors import ProviderBadRequest, ProviderError, ProviderTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")

# An upstream saying it is too busy right now: Anthropic's 529 ``overloaded_error``, a 503.
OVERLOADED_STATUSES = frozenset({503, 529})


def is_overloaded(exc: ProviderError) -> bool:
    return exc.status in OVERLOADED_STATUSES


@dataclass(frozen=True)
class Served:
    """Which route answered, and what its provider charges (``RouteInfo.cost``; None: unknown)."""

    provider_name: str
    upstream_model: str
    attempts: int
    cost: PriceInfo | None = None
    route: Any = None  # the route itself (a ``preferences.PlannedRoute`` names its model)


# What an upstream's error text may reveal about the operator's account with it.
_SECRETS = re.compile(
    r"(?:https?://\S+|[\w.+-]+@[\w-]+\.[\w.-]+|\b(?:sk|pk|rk|org|proj|key|acct|user)[-_][\w-]{6,}"
    r"|\b[A-Za-z0-9_-]{32,}\b|\breq_[\w-]+)"
)


def clean_upstream_message(message: str) -> str:
    """An upstream's 4xx message fit for the customer: the reason (context too long, a bad
    parameter) kept, links, e-mail addresses, key/org/project ids and long tokens removed."""
    text = _SECRETS.sub("[redacted]", " ".join(message.split()))
    return text[:300] or "no reason given"


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
        raise UpstreamOverloaded("every provider for this model is temporarily unavailable (circuit open)")
    last: ProviderError | None = None
    for attempt, route in enumerate(ordered, start=1):
        provider = route.provider.name
        began = time.perf_counter()
        try:
            result = await call(route)
        except ProviderBadRequest as exc:
            metrics.child(metrics.UPSTREAM_ERRORS, provider, type(exc).__name__).inc()
            log.info(
                "route %s/%s rejected the request: %s", route.provider.name, route.upstream_model, exc.message
            )
            raise UpstreamRejected(
                f"the model rejected the request: {clean_upstream_message(exc.message)}"
            ) from exc
        except ProviderError as exc:
            breaker.record_failure(route.provider_id, _summary(exc))
            metrics.child(metrics.UPSTREAM_ERRORS, provider, type(exc).__name__).inc()
            metrics.child(metrics.CIRCUIT_OPEN, provider).set(1 if breaker.is_open(route.provider_id) else 0)
            log.warning("route %s/%s failed: %s", route.provider.name, route.upstream_model, _summary(exc))
            last = exc
            continue
        metrics.child(metrics.UPSTREAM_DURATION, provider).observe(time.perf_counter() - began)
        if breaker.record_success(route.provider_id):
            metrics.child(metrics.CIRCUIT_OPEN, provider).set(0)
        return result, Served(
            route.provider.name, route.upstream_model, attempt, getattr(route, "cost", None), route
        )
    assert last is not None
    message = f"all {len(ordered)} route(s) failed; last: {_summary(last)}"
    if isinstance(last, ProviderTimeout):
        raise UpstreamTimeout(message)
    if is_overloaded(last):
        raise UpstreamOverloaded(message)
    raise UpstreamError(message)
