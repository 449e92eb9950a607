"""The public catalog the site lists: categories in order, callable models only, providers by
name and kind (never a key or a URL), search and category filters, and a directory rebuilt
when the catalog changes."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from modelsnest.catalog.cache import CatalogCache
from modelsnest.catalog.listing import ModelDirectory
from modelsnest.catalog.seed import seed_catalog
from modelsnest.crypto import SecretBox
from modelsnest.db.models.catalog import AiModel
from modelsnest.runtime import Runtime

BOX = SecretBox("listing-test-secret-" + "q" * 30)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def directory(runtime: Runtime) -> tuple[ModelDirectory, CatalogCache, Clock]:
    await seed_catalog(
        runtime.sessions, secret_box=BOX, simulator_enabled=True, provider_keys={"novita": "sk_live_secret"}
    )
    clock = Clock()
    cache = CatalogCache(runtime.sessions, BOX, ttl_seconds=5, clock=clock)
    return ModelDirectory(runtime.sessions, cache, ttl_seconds=30, clock=clock), cache, clock


async def test_categories_models_and_providers(directory: tuple[ModelDirectory, CatalogCache, Clock]) -> None:
    found = await (directory[0]).get()
    assert [c.slug for c in found.categories] == [
        "text",
        "multimodal",
        "image",
        "audio",
        "video",
        "embeddings",
    ]
    order = [c.slug for c in found.categories]
    positions = [order.index(m.info.category) for m in found.models]
    assert positions == sorted(positions) and len(found.models) == 73
    deepseek = found.get("deepseek")
    assert deepseek is not None and deepseek.category_name == "Text generation" and deepseek.features
    assert [(p.name, p.kind, p.label) for p in deepseek.providers] == [
        ("novita", "novita", "Novita AI"),
        ("simulator", "simulator", "Built-in simulator"),
    ]
    assert "sk_live_secret" not in repr(deepseek.providers)
    assert found.counts()["image"] == len(found.search(category="image"))


async def test_search_matches_every_word_anywhere(
    directory: tuple[ModelDirectory, CatalogCache, Clock],
) -> None:
    found = await directory[0].get()
    assert {m.slug for m in found.search(query="whisper")} >= {"whisper-1"}
    both = {m.slug for m in found.search(query="OpenAI embedding")}
    assert "text-embedding-3-small" in both and "gpt-4o" not in both and "embed-english-v3.0" not in both
    assert found.search(query="no such words") == []
    assert {m.info.category for m in found.search(category="video")} == {"video"}
    assert len(found.search(query="x" * 500)) == 0  # long input is cut, not an error


async def test_disabled_models_leave_and_changes_arrive(
    runtime: Runtime, directory: tuple[ModelDirectory, CatalogCache, Clock]
) -> None:
    models, cache, clock = directory
    first = await models.get()
    assert await models.get() is first  # nothing changed: the same directory
    async with runtime.sessions.begin() as session:
        await session.execute(update(AiModel).where(AiModel.slug == "deepseek").values(status="disabled"))
    cache.invalidate()
    second = await models.get()
    assert second is not first and second.get("deepseek") is None
    clock.now = 31  # the categories and features are re-read after their TTL too
    assert (await models.get()).get("gpt-4o") is not None
