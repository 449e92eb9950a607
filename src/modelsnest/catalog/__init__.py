"""The model catalog: seed data, providers and routes, the hot-path cache and exact pricing.

* ``spec`` / ``data/*.json`` — the packaged seed catalog, validated on load
* ``seed`` — idempotent seeding of models, docs, prices, simulator and env providers
* ``providers`` — provider and route administration (CLI, admin panel, circuit breaker)
* ``cache`` — ``CatalogCache``: immutable in-memory snapshots for the gateway
* ``pricing`` — exact per-request cost for every price unit, and its JSON rendering
"""

from modelsnest.catalog.cache import CatalogCache, load_snapshot
from modelsnest.catalog.pricing import (
    billing_json,
    catalog_pricing_json,
    chat_cost,
    price_per_1k_display,
    price_text,
    require_price,
    unit_cost,
)
from modelsnest.catalog.seed import SeedReport, seed_catalog, seed_from_settings
from modelsnest.catalog.types import CatalogSnapshot, ModelInfo, PriceInfo, RouteInfo

__all__ = [
    "CatalogCache",
    "CatalogSnapshot",
    "ModelInfo",
    "PriceInfo",
    "RouteInfo",
    "SeedReport",
    "billing_json",
    "catalog_pricing_json",
    "chat_cost",
    "load_snapshot",
    "price_per_1k_display",
    "price_text",
    "require_price",
    "seed_catalog",
    "seed_from_settings",
    "unit_cost",
]
