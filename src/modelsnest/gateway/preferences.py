"""Per-request routing preferences (OpenRouter's fields) on chat, Responses and completions:

* ``models: ["a", "b", …]`` — fallback models: when every route of the first one fails before a
  byte reached the client, the next is tried. The credit hold covers the most expensive of
  them; the request is billed at the model that answered (its price version, its usage row).
  ``model`` (when given) comes first; without it the first of ``models`` is the model.
* ``provider: {order, only, ignore, allow_fallbacks, sort}`` over each model's routes, by
  provider name or kind: ``only`` keeps those providers, ``ignore`` drops them, ``order``
  tries them first in that order (``allow_fallbacks: false``: only them, or without ``order``
  only the best route), ``sort: "price"`` orders by the route's upstream cost (its cost price,
  input + output per unit; routes without one after, by priority) and ``sort: "latency"`` by
  the provider's median latency over the last 24 hours (health rollups).

Malformed preferences are 400s naming the parameter; preferences leaving no route are a 400
``MODEL_UNAVAILABLE`` (param ``provider``). The fields are never forwarded upstream.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from modelsnest.catalog.types import ModelInfo, PriceInfo, RouteInfo
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import InvalidRequest, ModelError
from modelsnest.health.queries import provider_health

MAX_MODELS = 8
Sort = Literal["price", "latency"]
_LATENCY_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Preferences:
    models: tuple[str, ...] = ()
    order: tuple[str, ...] = ()
    only: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    allow_fallbacks: bool = True
    sort: Sort | None = None

    @property
    def filters_providers(self) -> bool:
        return bool(
            self.order or self.only is not None or self.ignore or not self.allow_fallbacks or self.sort
        )


def _names(value: Any, param: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidRequest(f"{param} must be an array of provider names", param=param)
    return tuple(v.lower() for v in value)


def take_preferences(body: dict[str, Any]) -> Preferences | None:
    """Read (and remove from ``body``) ``models`` and ``provider``; None when neither is set.
    Without ``model``, the first of ``models`` becomes it."""
    models_raw = body.pop("models", None)
    provider_raw = body.pop("provider", None)
    if models_raw is None and provider_raw is None:
        return None
    models: tuple[str, ...] = ()
    if models_raw is not None:
        if (
            not isinstance(models_raw, list)
            or not models_raw
            or not all(isinstance(m, str) and m for m in models_raw)
        ):
            raise InvalidRequest("models must be a non-empty array of model ids", param="models")
        if len(models_raw) > MAX_MODELS:
            raise InvalidRequest(f"models may list at most {MAX_MODELS} models", param="models")
        models = tuple(dict.fromkeys(models_raw))
        if body.get("model") in (None, ""):
            body["model"] = models[0]
    if provider_raw is None:
        return Preferences(models=models)
    if not isinstance(provider_raw, dict):
        raise InvalidRequest("provider must be an object", param="provider")
    known = {"order", "only", "ignore", "allow_fallbacks", "sort"}
    for name in provider_raw:
        if name not in known:
            raise InvalidRequest(
                f"provider.{name} is not supported ({', '.join(sorted(known))})", param=f"provider.{name}"
            )
    order = _names(provider_raw["order"], "provider.order") if provider_raw.get("order") is not None else ()
    only = (
        frozenset(_names(provider_raw["only"], "provider.only"))
        if provider_raw.get("only") is not None
        else None
    )
    ignore = (
        frozenset(_names(provider_raw["ignore"], "provider.ignore"))
        if provider_raw.get("ignore") is not None
        else frozenset()
    )
    fallbacks = provider_raw.get("allow_fallbacks", True)
    if fallbacks is None:
        fallbacks = True
    if not isinstance(fallbacks, bool):
        raise InvalidRequest("provider.allow_fallbacks must be a boolean", param="provider.allow_fallbacks")
    sort = provider_raw.get("sort")
    if sort is not None and sort not in ("price", "latency"):
        raise InvalidRequest('provider.sort must be "price" or "latency"', param="provider.sort")
    return Preferences(models, order, only, ignore, fallbacks, sort)


@dataclass(frozen=True)
class PlannedRoute:
    """A route of one of the request's models, in the order preferences chose (``priority``
    is its place, so the circuit breaker's ordering keeps it)."""

    route: RouteInfo
    model: ModelInfo
    price: PriceInfo
    priority: int
    weight: int = 1

    @property
    def provider_id(self) -> int:
        return self.route.provider_id

    @property
    def provider(self) -> Any:
        return self.route.provider

    @property
    def upstream_model(self) -> str:
        return self.route.upstream_model

    @property
    def cost(self) -> PriceInfo | None:
        return self.route.cost

    @property
    def circuit_open_until(self) -> datetime | None:
        return self.route.circuit_open_until


def _matches(route: RouteInfo, names: frozenset[str] | tuple[str, ...]) -> bool:
    return route.provider.name.lower() in names or route.provider.kind.lower() in names


def _place(route: RouteInfo, order: tuple[str, ...]) -> int:
    for index, name in enumerate(order):
        if route.provider.name.lower() == name or route.provider.kind.lower() == name:
            return index
    return len(order)


def _route_price(route: RouteInfo) -> int | None:
    cost = route.cost
    return None if cost is None else cost.input_nanos + cost.output_nanos


def order_routes(
    routes: Sequence[RouteInfo], prefs: Preferences, latency: Mapping[str, int] | None = None
) -> list[RouteInfo]:
    """One model's routes filtered and ordered by ``prefs`` (ties keep priority order)."""
    chosen = [r for r in sorted(routes, key=lambda r: r.priority) if not _matches(r, prefs.ignore)]
    if prefs.only is not None:
        chosen = [r for r in chosen if _matches(r, prefs.only)]
    if prefs.sort == "price":
        chosen.sort(key=lambda r: (_route_price(r) is None, _route_price(r) or 0))
    elif prefs.sort == "latency":
        known = latency or {}
        chosen.sort(key=lambda r: (r.provider.name not in known, known.get(r.provider.name, 0)))
    if prefs.order:
        chosen.sort(key=lambda r: _place(r, prefs.order))
        if not prefs.allow_fallbacks:
            chosen = [r for r in chosen if _place(r, prefs.order) < len(prefs.order)]
    elif not prefs.allow_fallbacks:
        chosen = chosen[:1]
    return chosen


def plan(
    candidates: Sequence[tuple[ModelInfo, PriceInfo]], prefs: Preferences, latency: Mapping[str, int] | None
) -> list[PlannedRoute]:
    planned: list[PlannedRoute] = []
    for index, (model, price) in enumerate(candidates):
        base = index * 1_000_000
        if not prefs.filters_providers:
            # No provider preference: the model's own order (priority, weighted within one).
            for route in model.routes:
                planned.append(PlannedRoute(route, model, price, base + route.priority, route.weight))
            continue
        for position, route in enumerate(order_routes(model.routes, prefs, latency)):
            planned.append(PlannedRoute(route, model, price, base + position))
    if not planned:
        raise ModelError(
            "no provider of this model matches the provider preferences",
            code="MODEL_UNAVAILABLE",
            param="provider",
        )
    return planned


_latency_cache: dict[int, tuple[float, dict[str, int]]] = {}


async def provider_latency(sessions: SessionFactory) -> dict[str, int]:
    """Each provider's median latency (ms) over the last 24 hours, cached a minute per process."""
    cached = _latency_cache.get(id(sessions))
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    stats = await provider_health(sessions, since=datetime.now(UTC) - timedelta(hours=24))
    medians = {name: m for name, s in stats.items() if (m := s.median_latency_ms) is not None}
    _latency_cache[id(sessions)] = (time.monotonic() + _LATENCY_TTL_SECONDS, medians)
    return medians
