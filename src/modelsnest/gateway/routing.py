"""Route order and the circuit breaker.

A model's routes are tried by ascending priority; within one priority a weighted random
order spreads the load. A provider that failed ``threshold`` times in a row is skipped for
``cooldown`` seconds; after that one request tries it again (half-open) and a success closes
the circuit, a failure opens it for another cooldown.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Protocol, TypeVar


class Routable(Protocol):
    @property
    def provider_id(self) -> int: ...
    @property
    def priority(self) -> int: ...
    @property
    def weight(self) -> int: ...


R = TypeVar("R", bound=Routable)


def weighted_order(routes: Sequence[R], rng: random.Random) -> list[R]:
    """Priority groups in order; inside a group, a weighted shuffle (weight 0 goes last)."""
    ordered: list[R] = []
    for _, group in groupby(sorted(routes, key=lambda r: r.priority), key=lambda r: r.priority):
        pool = list(group)
        while pool:
            total = sum(max(r.weight, 0) for r in pool)
            if total <= 0:
                ordered.extend(pool)
                break
            pick = rng.uniform(0, total)
            upto = 0.0
            for index, route in enumerate(pool):
                upto += max(route.weight, 0)
                if pick <= upto:
                    ordered.append(pool.pop(index))
                    break
            else:  # float edge: pick == total
                ordered.append(pool.pop())
    return ordered


def _open_elsewhere(route: object, now: float) -> bool:
    until = getattr(route, "circuit_open_until", None)
    return until is not None and until.timestamp() > now


@dataclass
class _Health:
    failures: int = 0
    open_until: float = 0.0
    last_error: str | None = None


@dataclass(frozen=True)
class HealthEvent:
    provider_id: int
    success: bool
    error: str | None
    open_until_epoch: float | None


@dataclass
class CircuitBreaker:
    threshold: int = 5
    cooldown_seconds: float = 30.0
    on_event: Callable[[HealthEvent], None] | None = None
    clock: Callable[[], float] = time.monotonic
    _health: dict[int, _Health] = field(default_factory=dict)

    def is_open(self, provider_id: int) -> bool:
        health = self._health.get(provider_id)
        return health is not None and health.open_until > self.clock()

    def record_success(self, provider_id: int) -> bool:
        """Returns whether this closed a circuit or cleared failures (the state changed)."""
        health = self._health.get(provider_id)
        if health is None or (health.failures == 0 and health.open_until == 0.0):
            # Hot path: nothing changed, nothing to report.
            if health is None:
                self._health[provider_id] = _Health()
                self._emit(HealthEvent(provider_id, True, None, None))
            return False
        self._health[provider_id] = _Health()
        self._emit(HealthEvent(provider_id, True, None, None))
        return True

    def record_failure(self, provider_id: int, error: str) -> None:
        health = self._health.setdefault(provider_id, _Health())
        health.failures += 1
        health.last_error = error
        opened: float | None = None
        if health.failures >= self.threshold:
            health.open_until = self.clock() + self.cooldown_seconds
            opened = time.time() + self.cooldown_seconds
        self._emit(HealthEvent(provider_id, False, error, opened))

    def order(self, routes: Sequence[R], rng: random.Random) -> list[R]:
        """The routes to try, best first, without those whose provider's circuit is open here
        or, as recorded in the database by any replica, everywhere (``circuit_open_until`` of
        the catalog snapshot, at most a cache TTL old)."""
        now = time.time()
        return [
            r
            for r in weighted_order(routes, rng)
            if not self.is_open(r.provider_id) and not _open_elsewhere(r, now)
        ]

    def _emit(self, event: HealthEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)
