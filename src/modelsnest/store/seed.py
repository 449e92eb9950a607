"""The built-in products (``store/data/products.json``), seeded by ``modelsnest seed``.

A product missing is created with the packaged price, caps and docs; one that exists is left
as the operator has it (price, caps, active flag), so seeding never undoes an operator's edit."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.db.models import StoreProduct

DATA = "products.json"


def builtin_specs() -> list[dict[str, Any]]:
    text = resources.files("modelsnest.store").joinpath("data", DATA).read_text(encoding="utf-8")
    products: list[dict[str, Any]] = json.loads(text)["products"]
    return products


async def sync_store_products(session: AsyncSession, created: dict[str, int]) -> None:
    existing = set((await session.scalars(select(StoreProduct.slug))).all())
    for spec in builtin_specs():
        if spec["slug"] in existing:
            continue
        session.add(
            StoreProduct(
                slug=spec["slug"],
                name=spec["name"],
                description=spec["description"],
                category=spec["category"],
                upstream_base_url=None,
                handler=spec["handler"],
                auth_location="none",
                allowed_methods=spec["allowed_methods"],
                path_patterns=spec["path_patterns"],
                price_per_call_nanos=spec["price_per_call_nanos"],
                price_per_mb_nanos=spec["price_per_mb_nanos"],
                billing_policy="2xx",
                rate_limit_per_minute=spec.get("rate_limit_per_minute"),
                timeout_seconds=spec["timeout_seconds"],
                max_request_bytes=spec["max_request_bytes"],
                max_response_bytes=spec["max_response_bytes"],
                allow_private_network=False,
                active=True,
                docs_markdown=spec["docs_markdown"],
            )
        )
        created["store_products"] = created.get("store_products", 0) + 1
    await session.flush()
