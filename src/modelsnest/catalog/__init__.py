"""The model catalog: seed data, providers and routes, the hot-path cache and exact pricing.

* ``spec`` / ``data/*.json`` — the packaged seed catalog, validated on load
* ``seed`` — idempotent seeding of models, docs, prices, simulator and env providers
* ``providers`` — provider and route administration (CLI, admin panel, circuit breaker)
* ``cache`` — ``CatalogCache``: immutable in-memory snapshots for the gateway
* ``pricing`` — exact per-request cost by price dimension (``bill``, ``bill_images``,
  ``hold_cost``) for every price unit; ``price_json`` renders prices and bills
* ``prices`` — price versions: ``set_price``, ``set_route_cost``, history, ``costs_above_price``;
  ``price_input`` parses and checks prices as operators write them, ``price_rows`` stores them
* ``docs`` / ``docs_templates`` — each model's docs as the seed stores them (Jinja2 templates)
* ``docs_render`` — ``model_docs(sessions, slug, base_url=…)``: one model's docs rendered for a
  request, in the sandbox of ``docs_jinja``
"""

from modelsnest.catalog.cache import CatalogCache, load_snapshot
from modelsnest.catalog.pricing import (
    Costing,
    CostLine,
    bill,
    bill_images,
    billing_json,
    catalog_pricing_json,
    chat_cost,
    hold_cost,
    price_per_1k_display,
    price_text,
    require_price,
    unit_cost,
)
from modelsnest.catalog.seed import SeedReport, seed_catalog, seed_from_settings
from modelsnest.catalog.types import CatalogSnapshot, ModelInfo, PriceComponent, PriceInfo, RouteInfo

__all__ = [
    "CatalogCache",
    "CatalogSnapshot",
    "CostLine",
    "Costing",
    "ModelInfo",
    "PriceComponent",
    "PriceInfo",
    "RouteInfo",
    "SeedReport",
    "bill",
    "bill_images",
    "billing_json",
    "catalog_pricing_json",
    "chat_cost",
    "hold_cost",
    "load_snapshot",
    "price_per_1k_display",
    "price_text",
    "require_price",
    "seed_catalog",
    "seed_from_settings",
    "unit_cost",
]
