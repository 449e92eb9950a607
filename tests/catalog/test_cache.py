"""The hot-path catalog cache: routes in priority order, reloads, single flight, fallbacks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event

from modelsnest.catalog import cache as cache_module
from modelsnest.catalog import providers as svc
from modelsnest.catalog.cache import CatalogCache, load_snapshot
from modelsnest.catalog.prices import set_price, set_route_cost
from modelsnest.catalog.seed import seed_catalog
from modelsnest.catalog.types import CatalogSnapshot, PriceComponent, PriceInfo
from modelsnest.crypto import SecretBox
from modelsnest.runtime import Runtime

BOX = SecretBox("cache-test-secret-" + "q" * 30)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def seeded(runtime: Runtime) -> Runtime:
    await seed_catalog(
        runtime.sessions, secret_box=BOX, simulator_enabled=True, provider_keys={"novita": "sk_n"}
    )
    return runtime


async def test_snapshot_contents(seeded: Runtime) -> None:
    snapshot = await CatalogCache(seeded.sessions, BOX).get()
    assert len(snapshot.models) >= 55
    deepseek = snapshot.models["deepseek"]
    assert (deepseek.category, deepseek.endpoint, deepseek.vendor) == ("text", "chat", "DeepSeek")
    assert deepseek.pricing is not None and isinstance(deepseek.pricing.version_id, int)
    # The current selling version, with the dimensions priced apart (DeepSeek's cache hits).
    assert deepseek.pricing == PriceInfo(
        "per_1k_tokens",
        270_000,
        1_100_000,
        (PriceComponent("cached_input", 70_000),),
        version_id=deepseek.pricing.version_id,
    )
    assert all(route.cost is None for route in deepseek.routes)  # no cost price seeded: unknown
    assert [(r.provider.name, r.upstream_model, r.priority) for r in deepseek.routes] == [
        ("novita", "deepseek/deepseek-v3-0324", 10),
        ("simulator", "deepseek", 1000),
    ]
    novita = deepseek.routes[0].provider
    assert (novita.kind, novita.api_key, novita.base_url) == (
        "novita",
        "sk_n",
        "https://api.novita.ai/v3/openai",
    )
    assert deepseek.upstream_ids["novita"] == "deepseek/deepseek-v3-0324"
    assert snapshot.models["whisper-1"].category == "audio"
    with pytest.raises(TypeError):
        snapshot.models["x"] = deepseek  # type: ignore[index]
    with pytest.raises(TypeError):
        deepseek.capabilities["tools"] = False  # type: ignore[index]


async def test_routes_sorted_by_priority_and_disabled_providers_excluded(seeded: Runtime) -> None:
    await svc.add_provider(
        seeded.sessions, BOX, name="backup", kind="openai", base_url="https://backup.example.com"
    )
    await svc.add_route(
        seeded.sessions,
        model_slug="deepseek",
        provider_name="backup",
        upstream_model="deepseek-chat",
        priority=50,
    )
    await svc.add_route(
        seeded.sessions,
        model_slug="deepseek",
        provider_name="backup",
        upstream_model="ds-off",
        priority=1,
        enabled=False,
    )
    cache = CatalogCache(seeded.sessions, BOX)
    routes = (await cache.get()).models["deepseek"].routes
    assert [(r.provider.name, r.priority) for r in routes] == [
        ("novita", 10),
        ("backup", 50),
        ("simulator", 1000),
    ]

    await svc.set_provider_enabled(seeded.sessions, "novita", False)
    cache.invalidate()
    routes = (await cache.get()).models["deepseek"].routes
    assert [r.provider.name for r in routes] == ["backup", "simulator"]


async def test_change_visible_after_invalidate_or_ttl(seeded: Runtime) -> None:
    clock = Clock()
    cache = CatalogCache(seeded.sessions, BOX, ttl_seconds=5, clock=clock)
    first = await cache.get()
    await set_price(seeded.sessions, "whisper-1", PriceInfo("per_minute", 7_000_000), actor="test")
    clock.now += 4
    assert await cache.get() is first  # still fresh
    clock.now += 1.5
    second = await cache.get()
    assert second is not first
    new = second.models["whisper-1"].pricing
    assert new is not None and (new.unit, new.input_nanos, new.output_nanos) == ("per_minute", 7_000_000, 0)
    assert new.version_id != first.models["whisper-1"].pricing.version_id  # type: ignore[union-attr]

    await svc.set_provider_enabled(seeded.sessions, "simulator", False)
    assert await cache.get() is second
    cache.invalidate()
    third = await cache.get()
    assert [r.provider.name for r in third.models["whisper-1"].routes] == []


async def test_single_flight_reload(seeded: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    async def slow_load(sessions: Any, box: SecretBox) -> CatalogSnapshot:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return await load_snapshot(sessions, box)

    monkeypatch.setattr(cache_module, "load_snapshot", slow_load)
    cache = CatalogCache(seeded.sessions, BOX)
    snapshots = await asyncio.gather(*(cache.get() for _ in range(20)))
    assert calls == 1
    assert all(s is snapshots[0] for s in snapshots)


async def test_failed_reload_serves_previous_snapshot(
    seeded: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = CatalogCache(seeded.sessions, BOX)
    first = await cache.get()

    async def broken(sessions: Any, box: SecretBox) -> CatalogSnapshot:
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(cache_module, "load_snapshot", broken)
    cache.invalidate()
    assert await cache.get() is first
    with pytest.raises(ConnectionError):
        await CatalogCache(seeded.sessions, BOX).get()  # nothing to fall back on


async def test_undecryptable_key_skips_that_provider(seeded: Runtime) -> None:
    snapshot = await CatalogCache(seeded.sessions, SecretBox("another-secret-" + "w" * 30)).get()
    assert [r.provider.name for r in snapshot.models["deepseek"].routes] == ["simulator"]


async def test_snapshot_loads_with_a_handful_of_queries(seeded: Runtime) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(seeded.engine.sync_engine, "before_cursor_execute", count)
    try:
        await load_snapshot(seeded.sessions, BOX)
    finally:
        event.remove(seeded.engine.sync_engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 5


async def test_routes_carry_their_current_cost_price(seeded: Runtime) -> None:
    cache = CatalogCache(seeded.sessions, BOX)
    route = (await cache.get()).models["deepseek"].routes[0]
    cost = PriceInfo("per_1k_tokens", 200_000, 900_000, (PriceComponent("cached_input", 50_000),))
    version = await set_route_cost(seeded.sessions, route.route_id, cost, actor="test", reason="contract")
    cache.invalidate()
    served = (await cache.get()).models["deepseek"].routes[0]
    assert served.cost == PriceInfo(cost.unit, 200_000, 900_000, cost.components, version_id=version.id)  # type: ignore[union-attr]
    await set_route_cost(seeded.sessions, route.route_id, None, actor="test", reason="contract ended")
    cache.invalidate()
    assert (await cache.get()).models["deepseek"].routes[0].cost is None
