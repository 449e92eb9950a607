"""Upstream providers and the routes to them, as operators manage them: add, edit, enable or
disable a provider (its API key is write-only: encrypted at rest by ``catalog.providers``, never
read back into a page or the audit log), test its connection, read its health; edit a route's
priority, weight and upstream cost, and see every route whose cost exceeds its selling price."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select

from modelsnest.admin import audit
from modelsnest.admin.audit import Actor
from modelsnest.admin.catalog import parse_price_text
from modelsnest.catalog import providers as catalog
from modelsnest.catalog.price_input import parse_price, price_entries
from modelsnest.catalog.prices import (
    CostAbovePrice,
    PriceVersion,
    costs_above_price,
    route_cost_history,
    set_route_cost,
)
from modelsnest.catalog.providers import ProviderView, RouteView
from modelsnest.crypto import SecretBox
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import AiModel, ModelRoute, Provider
from modelsnest.errors import InvalidRequest, ModelsnestError, NotFound
from modelsnest.health.queries import HealthStats, provider_health
from modelsnest.providers.kinds import ProviderKind
from modelsnest.providers.registry import build_provider
from modelsnest.providers.types import ProviderConfig

TIMEOUT_FIELDS: Final = ("connect_timeout", "first_byte_timeout", "total_timeout")
TEST_TIMEOUT_SECONDS: Final = 20.0


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    provider: ProviderView
    stats: HealthStats

    @property
    def error_percent(self) -> str:
        rate = self.stats.success_rate
        return "—" if rate is None else f"{(1 - rate) * 100:.1f}%"

    @property
    def circuit(self) -> str:
        """``open`` (skipped until its cool-down ends), ``closed``, or ``disabled``."""
        if not self.provider.enabled:
            return "disabled"
        until = self.provider.circuit_open_until
        return "open" if until is not None and until > datetime.now(UTC) else "closed"


@dataclass(frozen=True, slots=True)
class ConnectionTest:
    ok: bool
    message: str
    latency_ms: int


def kinds() -> list[ProviderKind]:
    return catalog.provider_kinds()


def _view_state(view: ProviderView) -> dict[str, Any]:
    """What the audit log keeps of a provider: never the key, only whether there is one."""
    return {
        "kind": view.kind,
        "base_url": view.base_url,
        "enabled": view.enabled,
        "has_api_key": view.has_api_key,
        **{field: getattr(view, field) for field in TIMEOUT_FIELDS},
    }


async def health_list(sessions: SessionFactory, now: datetime | None = None) -> list[ProviderHealth]:
    now = now or datetime.now(UTC)
    stats = await provider_health(sessions, since=now - timedelta(days=1))
    return [
        ProviderHealth(p, stats.get(p.name, HealthStats())) for p in await catalog.list_providers(sessions)
    ]


async def provider_page(sessions: SessionFactory, name: str) -> tuple[ProviderHealth, list[RouteView]]:
    view = await catalog.get_provider(sessions, name)
    stats = await provider_health(sessions, since=datetime.now(UTC) - timedelta(days=1))
    routes = [r for r in await catalog.list_routes(sessions) if r.provider_name == name]
    return ProviderHealth(view, stats.get(name, HealthStats())), routes


def parse_timeout(value: str, field: str) -> float | None:
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise InvalidRequest("enter a number of seconds, like 5 or 30", param=field) from None
    if not 0 < seconds <= 3600:
        raise InvalidRequest("a timeout is more than 0 and at most 3600 seconds", param=field)
    return seconds


async def add_provider(
    sessions: SessionFactory,
    box: SecretBox,
    actor: Actor,
    *,
    name: str,
    kind: str,
    base_url: str,
    api_key: str,
    timeouts: dict[str, str],
) -> ProviderView:
    view = await catalog.add_provider(
        sessions,
        box,
        name=name,
        kind=kind,
        base_url=base_url.strip() or None,
        api_key=api_key.strip() or None,
        connect_timeout=parse_timeout(timeouts.get("connect_timeout", ""), "connect_timeout"),
        first_byte_timeout=parse_timeout(timeouts.get("first_byte_timeout", ""), "first_byte_timeout"),
        total_timeout=parse_timeout(timeouts.get("total_timeout", ""), "total_timeout"),
    )
    await audit.record(sessions, actor, "provider.add", "provider", view.name, after=_view_state(view))
    return view


async def update_provider(
    sessions: SessionFactory,
    box: SecretBox,
    actor: Actor,
    name: str,
    *,
    base_url: str,
    api_key: str,
    clear_api_key: bool,
    timeouts: dict[str, str],
) -> ProviderView:
    """Blank fields stay as they are; a typed API key replaces the stored one."""
    before = await catalog.get_provider(sessions, name)
    view = await catalog.update_provider(
        sessions,
        box,
        name,
        base_url=base_url.strip() or None,
        api_key=api_key.strip() or None,
        clear_api_key=clear_api_key and not api_key.strip(),
        connect_timeout=parse_timeout(timeouts.get("connect_timeout", ""), "connect_timeout"),
        first_byte_timeout=parse_timeout(timeouts.get("first_byte_timeout", ""), "first_byte_timeout"),
        total_timeout=parse_timeout(timeouts.get("total_timeout", ""), "total_timeout"),
    )
    changed_key = bool(api_key.strip()) or (clear_api_key and before.has_api_key)
    old, new = _view_state(before), _view_state(view)
    if old != new or changed_key:
        after = {**new, "api_key": "replaced" if api_key.strip() else "cleared"} if changed_key else new
        await audit.record(sessions, actor, "provider.update", "provider", name, before=old, after=after)
    return view


async def set_enabled(sessions: SessionFactory, actor: Actor, name: str, enabled: bool) -> ProviderView:
    before = await catalog.get_provider(sessions, name)
    view = await catalog.set_provider_enabled(sessions, name, enabled)
    if before.enabled != enabled:
        await audit.record(
            sessions,
            actor,
            "provider.enable" if enabled else "provider.disable",
            "provider",
            name,
            before={"enabled": before.enabled},
            after={"enabled": enabled},
        )
    return view


async def test_connection(
    sessions: SessionFactory, box: SecretBox, actor: Actor, name: str, *, upstream_model: str = ""
) -> ConnectionTest:
    """One tiny chat request (1 output token) straight to the provider, bypassing routing
    and billing, with the stored key. Reports the answer or the upstream's error."""
    async with sessions() as session:
        row = await session.scalar(select(Provider).where(Provider.name == name))
        if row is None:
            raise NotFound(f"no provider named {name!r}", param="provider")
        config = ProviderConfig(
            name=row.name,
            kind=row.kind,
            base_url=row.base_url,
            api_key=box.decrypt(row.api_key_encrypted) if row.api_key_encrypted else None,
            connect_timeout=min(row.connect_timeout, TEST_TIMEOUT_SECONDS),
            first_byte_timeout=min(row.first_byte_timeout, TEST_TIMEOUT_SECONDS),
            total_timeout=min(row.total_timeout, TEST_TIMEOUT_SECONDS),
        )
    model = upstream_model.strip() or await chat_model(sessions, name) or ""
    if not model:
        raise InvalidRequest(
            "the provider has no chat route yet: name an upstream model to try", param="upstream_model"
        )
    started = time.monotonic()
    provider = build_provider(config)
    try:
        await provider.chat({"messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}, model)
        result = ConnectionTest(True, f"{model} answered.", int((time.monotonic() - started) * 1000))
    except ModelsnestError as exc:
        result = ConnectionTest(False, exc.message, int((time.monotonic() - started) * 1000))
    except Exception as exc:  # an adapter's own error type: shown, never a 500
        result = ConnectionTest(
            False, str(exc)[:500] or type(exc).__name__, int((time.monotonic() - started) * 1000)
        )
    finally:
        await provider.close()
    await audit.record(
        sessions,
        actor,
        "provider.test",
        "provider",
        name,
        after={
            "ok": result.ok,
            "model": model,
            "latency_ms": result.latency_ms,
            "message": result.message[:300],
        },
    )
    return result


async def chat_model(sessions: SessionFactory, name: str) -> str | None:
    """The upstream model of the provider's first enabled chat route (what a test sends to)."""
    async with sessions() as session:
        found = await session.scalar(
            select(ModelRoute.upstream_model)
            .join(Provider, Provider.id == ModelRoute.provider_id)
            .join(AiModel, AiModel.id == ModelRoute.model_id)
            .where(Provider.name == name, ModelRoute.enabled.is_(True), AiModel.endpoint == "chat")
            .order_by(ModelRoute.priority, ModelRoute.id)
            .limit(1)
        )
    return str(found) if found is not None else None


def _whole(value: str, field: str) -> int:
    text = value.strip()
    if not text.isdigit() or int(text) > 1_000_000:
        raise InvalidRequest(f"the {field} is a whole number of 0 or more", param=field)
    return int(text)


async def update_route(
    sessions: SessionFactory, actor: Actor, route: RouteView, *, priority: str, weight: str, enabled: bool
) -> RouteView:
    new = await catalog.update_route(
        sessions,
        route.id,
        priority=_whole(priority, "priority"),
        weight=_whole(weight, "weight"),
        enabled=enabled,
    )
    old_state = {"priority": route.priority, "weight": route.weight, "enabled": route.enabled}
    new_state = {"priority": new.priority, "weight": new.weight, "enabled": new.enabled}
    if old_state != new_state:
        await audit.record(
            sessions, actor, "route.update", "route", route.id, before=old_state, after=new_state
        )
    return new


async def add_route(
    sessions: SessionFactory,
    actor: Actor,
    provider: str,
    *,
    model_slug: str,
    upstream_model: str,
    priority: str,
    weight: str,
) -> RouteView:
    route = await catalog.add_route(
        sessions,
        model_slug=model_slug.strip(),
        provider_name=provider,
        upstream_model=upstream_model,
        priority=_whole(priority or "100", "priority"),
        weight=_whole(weight or "1", "weight"),
    )
    await audit.record(
        sessions,
        actor,
        "route.add",
        "route",
        route.id,
        after={
            "model": route.model_slug,
            "provider": provider,
            "upstream_model": route.upstream_model,
            "priority": route.priority,
            "weight": route.weight,
        },
    )
    return route


async def set_cost(
    sessions: SessionFactory,
    actor: Actor,
    route: RouteView,
    endpoint: str,
    *,
    unit: str,
    text: str,
    reason: str,
) -> None:
    """A new cost version for the route (blank prices: the cost becomes unknown)."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidRequest("give a reason: it is kept with the cost version", param="reason")
    if text.strip():
        try:
            cost = parse_price(unit, parse_price_text(unit, text, endpoint), endpoint=endpoint)
        except InvalidRequest as exc:
            raise InvalidRequest(exc.message, param="cost") from exc
    else:
        cost = None
    await set_route_cost(sessions, route.id, cost, actor=actor.label, reason=reason[:500])
    await audit.record(
        sessions,
        actor,
        "route.cost",
        "route",
        route.id,
        before=None if route.cost is None else {"unit": route.cost.unit, **price_entries(route.cost)},
        after=None if cost is None else {"unit": cost.unit, **price_entries(cost), "reason": reason[:500]},
    )


def cost_text(route: RouteView) -> str:
    if route.cost is None:
        return ""
    return "\n".join(f"{k} = {v}" for k, v in price_entries(route.cost).items())


async def warnings(sessions: SessionFactory) -> list[CostAbovePrice]:
    return await costs_above_price(sessions)


async def cost_history(sessions: SessionFactory, route_id: int) -> list[tuple[PriceVersion, dict[str, str]]]:
    return [(v, price_entries(v.price)) for v in await route_cost_history(sessions, route_id, limit=50)]
