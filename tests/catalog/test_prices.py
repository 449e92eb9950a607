"""Price versions: setting a price keeps the history, route cost prices, the "cost above price"
list, and what the seed does with versions. Against both databases."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy import select

from modelsnest.catalog import providers as catalog_providers
from modelsnest.catalog.cache import CatalogCache
from modelsnest.catalog.price_input import parse_price
from modelsnest.catalog.prices import (
    costs_above_price,
    current_price,
    get_price_version,
    price_history,
    route_cost_history,
    set_price,
    set_route_cost,
)
from modelsnest.catalog.seed import seed_catalog
from modelsnest.catalog.spec import load_catalog_spec
from modelsnest.crypto import SecretBox
from modelsnest.db.models.catalog import AiModelPriceComponent, AiModelPricing
from modelsnest.errors import Conflict, InvalidRequest, NotFound
from modelsnest.runtime import Runtime

BOX = SecretBox("prices-test-secret-" + "p" * 30)


@pytest.fixture
async def seeded(runtime: Runtime) -> Runtime:
    await seed_catalog(runtime.sessions, secret_box=BOX, simulator_enabled=True, provider_keys={})
    return runtime


async def route_of(runtime: Runtime, slug: str) -> int:
    return (await catalog_providers.list_routes(runtime.sessions, slug))[0].id


async def test_a_new_price_is_a_new_version_and_the_history_is_kept(seeded: Runtime) -> None:
    sessions = seeded.sessions
    seed_version = await current_price(sessions, "claude-sonnet-4")
    assert seed_version is not None and seed_version.source == "seed" and seed_version.current
    cheaper = parse_price("per_1k_tokens", {"input": "0.0025", "output": "0.0125", "cached_input": "0.00025"})
    new = await set_price(sessions, "claude-sonnet-4", cheaper, actor="admin:ops@example.com", reason="promo")
    assert new.price == dataclasses.replace(cheaper, version_id=new.id)
    assert (new.source, new.actor, new.reason, new.current) == (
        "operator",
        "admin:ops@example.com",
        "promo",
        True,
    )

    history = await price_history(sessions, "claude-sonnet-4")
    assert [v.id for v in history] == [new.id, seed_version.id]  # newest first
    old = history[1]
    assert old.effective_until == new.effective_from  # no gap, no overlap
    assert old.price.components == seed_version.price.components  # unchanged, with its cache prices
    assert (await get_price_version(sessions, old.id)).price == seed_version.price
    snapshot = await CatalogCache(sessions, BOX).get()
    assert snapshot.models["claude-sonnet-4"].pricing == new.price  # the current version, always


async def test_set_price_refuses_what_cannot_bill_and_a_stale_edit(seeded: Runtime) -> None:
    sessions = seeded.sessions
    current = await current_price(sessions, "gpt-4o")
    assert current is not None
    per_image = parse_price("per_image", {"input": "0.04"})
    with pytest.raises(InvalidRequest, match="chat model is priced"):
        await set_price(sessions, "gpt-4o", per_image, actor="t")
    with pytest.raises(InvalidRequest, match="who sets the price"):
        await set_price(sessions, "gpt-4o", current.price, actor="  ")
    with pytest.raises(NotFound):
        await set_price(sessions, "no-such-model", current.price, actor="t")
    await set_price(sessions, "gpt-4o", current.price, actor="first", expected_version_id=current.id)
    with pytest.raises(Conflict, match="changed meanwhile"):
        await set_price(sessions, "gpt-4o", current.price, actor="second", expected_version_id=current.id)
    assert len(await price_history(sessions, "gpt-4o")) == 2


async def test_concurrent_price_changes_leave_one_current_version_and_a_gapless_history(
    seeded: Runtime,
) -> None:
    sessions = seeded.sessions
    prices = [parse_price("per_1k_tokens", {"input": f"0.00{i}", "output": "0.01"}) for i in range(1, 6)]
    await asyncio.gather(
        *(set_price(sessions, "gpt-4.1", p, actor=f"admin{i}") for i, p in enumerate(prices))
    )
    history = await price_history(sessions, "gpt-4.1")
    assert len(history) == 6 and [v.current for v in history].count(True) == 1
    for newer, older in zip(history, history[1:], strict=False):
        assert older.effective_until == newer.effective_from


async def test_the_database_refuses_two_current_prices_and_bad_components(seeded: Runtime) -> None:
    model_id = (await CatalogCache(seeded.sessions, BOX).get()).models["deepseek"].id
    with pytest.raises(Exception, match="(?i)unique"):
        async with seeded.sessions.begin() as session:
            session.add(AiModelPricing(model_id=model_id, price_unit="per_1k_tokens", input_price_nanos=1))
    bad = [
        {"dimension": "input", "variant": "", "above_input_tokens": 0, "price_nanos": 1},  # the base column's
        {
            "dimension": "image",
            "variant": "",
            "above_input_tokens": 0,
            "price_nanos": 1,
        },  # images need a variant
        {"dimension": "cached_input", "variant": "1024x1024", "above_input_tokens": 0, "price_nanos": 1},
        {"dimension": "cached_input", "variant": "", "above_input_tokens": 0, "price_nanos": -1},
        {"dimension": "bogus", "variant": "", "above_input_tokens": 0, "price_nanos": 1},
    ]
    version = (await current_price(seeded.sessions, "deepseek")).id  # type: ignore[union-attr]
    for values in bad:
        with pytest.raises(Exception, match="(?i)check"):
            async with seeded.sessions.begin() as session:
                session.add(AiModelPriceComponent(pricing_id=version, **values))


async def test_route_cost_prices_have_their_own_history(seeded: Runtime) -> None:
    sessions = seeded.sessions
    route = await route_of(seeded, "deepseek")
    cost = parse_price("per_1k_tokens", {"input": "0.0002", "output": "0.0009", "cached_input": "0.00005"})
    first = await set_route_cost(sessions, route, cost, actor="t", reason="contract")
    assert first is not None and first.route_id == route and first.model_slug == "deepseek"
    assert await set_route_cost(sessions, route, None, actor="t", reason="contract ended") is None
    history = await route_cost_history(sessions, route)
    assert [v.id for v in history] == [first.id] and history[0].effective_until is not None
    listed = next(r for r in await catalog_providers.list_routes(sessions, "deepseek") if r.id == route)
    assert listed.cost is None  # unknown again
    # The selling price is untouched by cost prices.
    assert len(await price_history(sessions, "deepseek")) == 1
    with pytest.raises(InvalidRequest, match="per_image"):
        await set_route_cost(sessions, route, parse_price("per_image", {"input": "1"}), actor="t")
    with pytest.raises(NotFound):
        await set_route_cost(sessions, 10**9, cost, actor="t")


async def test_routes_that_cost_more_than_they_sell_for_are_listed(seeded: Runtime) -> None:
    sessions = seeded.sessions
    sonnet, pro, image, deepseek, gpt4o = [
        await route_of(seeded, slug)
        for slug in ("claude-sonnet-4", "gemini-2.5-pro", "gpt-image-1", "deepseek", "gpt-4o")
    ]
    # Sonnet: cheaper input, dearer cache writes. Gemini Pro: fine below 200k, dearer above.
    sonnet_cost = {"input": "0.002", "output": "0.015", "cached_input": "0.0003", "cache_write": "0.004"}
    await set_route_cost(sessions, sonnet, parse_price("per_1k_tokens", sonnet_cost), actor="t")
    pro_cost = {"input": "0.001", "output": "0.008", "cached_input": "0.0001", "output>200000": "0.02"}
    await set_route_cost(sessions, pro, parse_price("per_1k_tokens", pro_cost), actor="t")
    # gpt-4o: an upstream without a cache discount bills cached tokens at its input price,
    # above the discounted price they are sold at.
    await set_route_cost(
        sessions, gpt4o, parse_price("per_1k_tokens", {"input": "0.002", "output": "0.008"}), actor="t"
    )
    await set_route_cost(
        sessions, image, parse_price("per_image", {"input": "0.03", "image:1024x1024/high": "0.2"}), actor="t"
    )
    deepseek_cost = {"input": "0.0001", "cached_input": "0.00002"}
    await set_route_cost(sessions, deepseek, parse_price("per_1k_tokens", deepseek_cost), actor="t")
    found = {
        (r.model_slug, r.dimension, r.variant, r.above_input_tokens): (r.cost_nanos, r.price_nanos)
        for r in await costs_above_price(sessions)
    }
    assert found == {
        # (The 1-hour write sells at 0.006, above the 0.004 the cost falls back to: not listed.)
        ("claude-sonnet-4", "cache_write", "", 0): (4_000_000, 3_750_000),
        ("gpt-4o", "cached_input", "", 0): (2_000_000, 1_250_000),
        ("gemini-2.5-pro", "output", "", 200_000): (20_000_000, 15_000_000),
        ("gpt-image-1", "image", "1024x1024/high", 0): (200_000_000, 167_000_000),
    }
    # A cost price in another unit cannot be compared: it is listed as such.
    await set_route_cost(sessions, deepseek, parse_price("per_request", {"input": "0.00001"}), actor="t")
    units = [r for r in await costs_above_price(sessions) if r.model_slug == "deepseek"]
    assert [(r.dimension, r.unit) for r in units] == [("unit", "per_request")]


async def test_seed_changes_are_versions_and_operator_prices_are_never_overwritten(seeded: Runtime) -> None:
    sessions = seeded.sessions
    spec = load_catalog_spec()
    edited = dataclasses.replace(
        spec,
        models=tuple(
            dataclasses.replace(m, price=dataclasses.replace(m.price, input_nanos=m.price.input_nanos + 1))
            if m.slug in ("deepseek", "gpt-4o")
            else m
            for m in spec.models
        ),
    )
    gpt4o = await current_price(sessions, "gpt-4o")
    assert gpt4o is not None
    await set_price(sessions, "gpt-4o", gpt4o.price, actor="ops", reason="hold the price")
    report = await seed_catalog(
        sessions, secret_box=BOX, simulator_enabled=True, provider_keys={}, spec=edited
    )
    assert (report.updated.get("prices"), report.operator_prices_kept) == (1, 1)
    deepseek = await price_history(sessions, "deepseek")
    assert [(v.source, v.actor, v.reason) for v in deepseek] == [
        ("seed", "seed", "catalog seed update"),
        ("seed", "seed", "catalog seed"),
    ]
    assert deepseek[0].price.input_nanos == deepseek[1].price.input_nanos + 1
    assert (await current_price(sessions, "gpt-4o")).actor == "ops"  # type: ignore[union-attr]
    async with sessions() as session:
        total = len((await session.scalars(select(AiModelPricing.id))).all())
    again = await seed_catalog(
        sessions, secret_box=BOX, simulator_enabled=True, provider_keys={}, spec=edited
    )
    assert not again.updated.get("prices")
    async with sessions() as session:
        assert len((await session.scalars(select(AiModelPricing.id))).all()) == total  # idempotent
