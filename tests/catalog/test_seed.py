"""Seeding: complete catalog, idempotent, operator prices win, simulator and env providers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update

from modelsnest.catalog.seed import SIMULATOR_PRIORITY, SeedReport, seed_catalog, seed_from_settings
from modelsnest.crypto import SecretBox
from modelsnest.db.base import Base
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.catalog import (
    AiModel,
    AiModelCategory,
    AiModelDoc,
    AiModelDocExample,
    AiModelDocParameter,
    AiModelDocStep,
    AiModelFeature,
    AiModelPricing,
)
from modelsnest.db.models.providers import ModelRoute, Provider
from modelsnest.runtime import Runtime
from tests.conftest import make_settings

BOX = SecretBox("catalog-test-secret-" + "y" * 30)
NOVITA_KEY = "sk_novita_live_0123456789abcdef"


async def seed(runtime: Runtime, *, simulator: bool = True, **keys: str | None) -> SeedReport:
    return await seed_catalog(
        runtime.sessions, secret_box=BOX, simulator_enabled=simulator, provider_keys=keys
    )


async def count(sessions: SessionFactory, model: type[Base]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def routes_of(sessions: SessionFactory, slug: str) -> list[tuple[str, str, int, bool]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Provider.name, ModelRoute.upstream_model, ModelRoute.priority, ModelRoute.enabled)
            .join(Provider, Provider.id == ModelRoute.provider_id)
            .join(AiModel, AiModel.id == ModelRoute.model_id)
            .where(AiModel.slug == slug)
            .order_by(ModelRoute.priority)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_seed_creates_a_complete_catalog(runtime: Runtime) -> None:
    report = await seed(runtime)
    sessions = runtime.sessions
    models = await count(sessions, AiModel)
    assert models >= 55
    assert report.created["models"] == models
    async with sessions() as session:
        categories = set(
            (
                await session.scalars(
                    select(AiModelCategory.slug).join(AiModel, AiModel.category_id == AiModelCategory.id)
                )
            ).all()
        )
        assert categories == {"text", "image", "audio", "video", "embeddings", "multimodal"}
        languages = (
            await session.execute(select(AiModelDocExample.language, func.count()).group_by("language"))
        ).all()
        assert dict(languages) == {"curl": models, "python": models, "javascript": models}
        contexts = (
            await session.execute(select(AiModelFeature.context, func.count()).group_by("context"))
        ).all()
        assert set(dict(contexts)) == {"card", "detail", "pricing"}
    assert await count(sessions, AiModelPricing) == models
    assert await count(sessions, AiModelDoc) == models
    assert await count(sessions, AiModelDocStep) >= 3 * models
    assert await count(sessions, AiModelDocParameter) >= 3 * models


async def test_required_slugs_have_their_units(runtime: Runtime) -> None:
    await seed(runtime)
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(
                AiModel.slug, AiModel.endpoint, AiModelPricing.price_unit, AiModelPricing.input_price_nanos
            )
            .join(AiModelPricing, AiModelPricing.model_id == AiModel.id)
            .where(
                AiModel.slug.in_(["deepseek", "whisper-1", "elevenlabs-v3", "runway-gen-3", "midjourney-v5"])
            )
        )
        found = {slug: (endpoint, unit, nanos) for slug, endpoint, unit, nanos in rows}
    assert found["deepseek"][:2] == ("chat", "per_1k_tokens")
    assert found["whisper-1"] == ("transcription", "per_minute", 6_000_000)
    assert found["elevenlabs-v3"][:2] == ("speech", "per_1k_characters")
    assert found["runway-gen-3"][:2] == ("video", "per_second")
    assert found["midjourney-v5"][:2] == ("images", "per_image")


async def test_seeding_twice_changes_nothing(runtime: Runtime) -> None:
    await seed(runtime, novita=NOVITA_KEY)
    tables = [AiModel, AiModelFeature, AiModelPricing, AiModelDoc, AiModelDocStep, ModelRoute, Provider]
    before = [await count(runtime.sessions, t) for t in tables]
    again = await seed(runtime, novita=NOVITA_KEY)
    assert not again.changed, again.summary()
    assert [await count(runtime.sessions, t) for t in tables] == before


async def test_operator_price_survives_and_seed_price_is_refreshed(runtime: Runtime) -> None:
    await seed(runtime)
    async with runtime.sessions() as session, session.begin():
        deepseek = await session.scalar(select(AiModel.id).where(AiModel.slug == "deepseek"))
        whisper = await session.scalar(select(AiModel.id).where(AiModel.slug == "whisper-1"))
        assert deepseek is not None and whisper is not None
        await session.execute(
            update(AiModelPricing)
            .where(AiModelPricing.model_id == deepseek)
            .values(input_price_nanos=999, output_price_nanos=888, source="operator")
        )
        await session.execute(
            update(AiModelPricing).where(AiModelPricing.model_id == whisper).values(input_price_nanos=1)
        )
    report = await seed(runtime)
    assert report.operator_prices_kept == 1
    assert report.updated == {"prices": 1}
    async with runtime.sessions() as session:
        current = (
            await session.scalars(select(AiModelPricing).where(AiModelPricing.effective_until.is_(None)))
        ).all()
        prices = {
            row.model_id: (row.input_price_nanos, row.output_price_nanos, row.source) for row in current
        }
        whisper_versions = (
            await session.scalars(select(AiModelPricing.actor).where(AiModelPricing.model_id == whisper))
        ).all()
    assert prices[deepseek] == (999, 888, "operator")
    assert prices[whisper] == (6_000_000, 0, "seed")
    assert len(whisper_versions) == 2  # the refresh is a new version; the old one stays, closed


async def test_operator_curation_and_edited_features_are_handled(runtime: Runtime) -> None:
    await seed(runtime)
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(AiModel).where(AiModel.slug == "gpt-4o").values(status="disabled", name="X")
        )
        await session.execute(update(AiModelFeature).values(text="edited"))
    report = await seed(runtime)
    assert report.updated["models"] == 1
    async with runtime.sessions() as session:
        model = await session.scalar(select(AiModel).where(AiModel.slug == "gpt-4o"))
        assert model is not None and model.name == "GPT-4o"  # descriptive: seed-owned
        assert model.status == "disabled"  # curation: operator-owned
        assert await session.scalar(select(func.count()).where(AiModelFeature.text == "edited")) == 0


async def test_simulator_routes_follow_the_switch(runtime: Runtime) -> None:
    await seed(runtime)
    models = await count(runtime.sessions, AiModel)
    async with runtime.sessions() as session:
        simulator = await session.scalar(select(Provider).where(Provider.name == "simulator"))
        assert simulator is not None and simulator.kind == "simulator"
        routes = (
            await session.scalars(select(ModelRoute).where(ModelRoute.provider_id == simulator.id))
        ).all()
    assert len(routes) == models
    assert all(r.enabled and r.priority == SIMULATOR_PRIORITY for r in routes)
    assert await routes_of(runtime.sessions, "whisper-1") == [("simulator", "whisper-1", 1000, True)]

    off = await seed(runtime, simulator=False)
    assert off.updated == {"routes": models}
    assert await count(runtime.sessions, ModelRoute) == models  # disabled, not deleted
    assert await routes_of(runtime.sessions, "whisper-1") == [("simulator", "whisper-1", 1000, False)]

    await seed(runtime, simulator=True)
    assert await routes_of(runtime.sessions, "whisper-1") == [("simulator", "whisper-1", 1000, True)]


async def _all_stored_text(sessions: SessionFactory) -> str:
    parts: list[str] = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


async def test_novita_key_creates_encrypted_provider_and_routes(runtime: Runtime) -> None:
    report = await seed(runtime, novita=NOVITA_KEY, openai=None)
    assert report.created["providers"] == 2
    async with runtime.sessions() as session:
        novita = await session.scalar(select(Provider).where(Provider.name == "novita"))
        assert novita is not None
        assert (novita.kind, novita.base_url, novita.enabled) == (
            "novita",
            "https://api.novita.ai/v3/openai",
            True,
        )
        assert novita.api_key_encrypted and BOX.decrypt(novita.api_key_encrypted) == NOVITA_KEY
        assert await session.scalar(select(func.count()).where(Provider.kind == "openai")) == 0
    assert NOVITA_KEY not in await _all_stored_text(runtime.sessions)
    assert await routes_of(runtime.sessions, "deepseek") == [
        ("novita", "deepseek/deepseek-v3-0324", 10, True),
        ("simulator", "deepseek", 1000, True),
    ]
    # models Novita does not serve keep only the simulator
    assert [r[0] for r in await routes_of(runtime.sessions, "claude-sonnet-4")] == ["simulator"]


async def test_env_provider_key_rotation_keeps_operator_route_settings(runtime: Runtime) -> None:
    await seed(runtime, novita=NOVITA_KEY)
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            update(ModelRoute)
            .where(ModelRoute.upstream_model == "deepseek/deepseek-v3-0324")
            .values(priority=50, enabled=False)
        )
    report = await seed(runtime, novita="sk_rotated")
    assert report.updated == {"providers": 1}
    async with runtime.sessions() as session:
        novita = await session.scalar(select(Provider).where(Provider.name == "novita"))
        assert novita is not None and BOX.decrypt(novita.api_key_encrypted or "") == "sk_rotated"
    assert ("novita", "deepseek/deepseek-v3-0324", 50, False) in await routes_of(runtime.sessions, "deepseek")


async def test_all_env_providers(runtime: Runtime) -> None:
    await seed(runtime, novita="a", openai="b", anthropic="c", elevenlabs="d")
    assert (await routes_of(runtime.sessions, "gpt-4o-mini"))[0] == ("openai", "gpt-4o-mini", 10, True)
    assert (await routes_of(runtime.sessions, "claude-sonnet-4"))[0][:2] == (
        "anthropic",
        "claude-sonnet-4-20250514",
    )
    assert (await routes_of(runtime.sessions, "elevenlabs-v3"))[0][:2] == ("elevenlabs", "eleven_v3")
    assert (await routes_of(runtime.sessions, "whisper-1"))[0][:2] == ("openai", "whisper-1")


async def test_unknown_provider_kind_is_refused(runtime: Runtime) -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown provider kinds"):
        await seed(runtime, mistral="x")


async def test_seed_from_settings(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, provider_keys={"novita": NOVITA_KEY}, simulator=False)
    runtime = Runtime.create(settings)
    try:
        report = await seed_from_settings(runtime.sessions, settings)
        assert report.created["providers"] == 2
        routes = await routes_of(runtime.sessions, "deepseek")
        assert routes == [
            ("novita", "deepseek/deepseek-v3-0324", 10, True),
            ("simulator", "deepseek", 1000, False),
        ]
        async with runtime.sessions() as session:
            stored = await session.scalar(select(Provider.api_key_encrypted).where(Provider.name == "novita"))
        assert SecretBox(settings.resolved_secret_key()).decrypt(stored or "") == NOVITA_KEY
    finally:
        await runtime.close()


async def test_concurrent_seeding_creates_no_duplicates(runtime: Runtime) -> None:
    import asyncio

    from modelsnest.catalog.spec import load_catalog_spec

    await asyncio.gather(seed(runtime, novita=NOVITA_KEY), seed(runtime, novita=NOVITA_KEY))
    assert await count(runtime.sessions, AiModel) == len(load_catalog_spec().models)
    assert await count(runtime.sessions, Provider) == 2
    assert not (await seed(runtime, novita=NOVITA_KEY)).changed
