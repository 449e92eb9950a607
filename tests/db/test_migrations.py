"""The one migration history runs identically on SQLite and PostgreSQL and matches the models."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from modelsnest.catalog import providers as catalog_providers
from modelsnest.catalog.price_input import parse_price
from modelsnest.catalog.prices import set_price, set_route_cost
from modelsnest.catalog.seed import seed_catalog
from modelsnest.crypto import SecretBox
from modelsnest.db.base import Base
from modelsnest.db.migrate import (
    SchemaNotCurrent,
    alembic_config,
    check_schema_current,
    current_revision,
    head_revision,
)
from modelsnest.runtime import Runtime


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diffs = compare_metadata(context, Base.metadata)
    # Expression indexes (lower(email)) cannot be reflected by every dialect; checked below.
    return [
        d
        for d in diffs
        if not (
            isinstance(d, tuple)
            and d[0] in ("add_index", "remove_index")
            and getattr(d[1], "name", "") == "uq_users_email_lower"
        )
    ]


async def test_migrated_database_is_at_head_and_matches_models(runtime: Runtime) -> None:
    assert await current_revision(runtime.engine) == head_revision()
    await check_schema_current(runtime.engine)
    async with runtime.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
        tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables


async def test_email_is_unique_case_insensitively(runtime: Runtime) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    async with runtime.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (email, role, status, created_at, updated_at) "
                "VALUES ('Ann@Example.com', 'user', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(IntegrityError):
        async with runtime.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO users (email, role, status, created_at, updated_at) "
                    "VALUES ('ann@example.COM', 'user', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )


async def test_unmigrated_database_is_refused(tmp_path: object) -> None:
    import pytest

    from modelsnest.db.engine import create_engine

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    try:
        with pytest.raises(SchemaNotCurrent, match="modelsnest migrate"):
            await check_schema_current(engine)
    finally:
        await engine.dispose()


_PLUGIN_PROVIDER = text(
    "INSERT INTO providers (name, kind, enabled, connect_timeout, first_byte_timeout, total_timeout, "
    "consecutive_failures, created_at, updated_at) "
    "VALUES (:name, 'mistral', TRUE, 5, 60, 600, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


async def test_provider_kinds_are_left_to_the_registry_and_the_downgrade_restores_the_check(
    runtime: Runtime,
) -> None:
    # A plugin's kind needs no migration: the database takes any kind name.
    async with runtime.engine.begin() as connection:
        await connection.execute(_PLUGIN_PROVIDER, {"name": "mistral"})
        await connection.execute(text("DELETE FROM providers"))
    await runtime.engine.dispose()  # SQLite's batch mode rebuilds the table: no open connections
    url = runtime.settings.async_database_url
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0002")
    with pytest.raises(IntegrityError):
        async with runtime.engine.begin() as connection:
            await connection.execute(_PLUGIN_PROVIDER, {"name": "mistral"})
    await runtime.engine.dispose()
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    assert await current_revision(runtime.engine) == head_revision()
    async with runtime.engine.begin() as connection:
        await connection.execute(_PLUGIN_PROVIDER, {"name": "mistral"})


async def test_price_versions_and_provider_rollups_survive_a_downgrade_and_upgrade(runtime: Runtime) -> None:
    sessions = runtime.sessions
    await seed_catalog(sessions, secret_box=SecretBox("m" * 40), simulator_enabled=True, provider_keys={})
    await set_price(
        sessions, "deepseek", parse_price("per_1k_tokens", {"input": "0.001", "output": "0.002"}), actor="t"
    )
    route = (await catalog_providers.list_routes(sessions, "deepseek"))[0].id
    await set_route_cost(sessions, route, parse_price("per_1k_tokens", {"input": "0.0005"}), actor="t")
    async with runtime.engine.begin() as connection:
        user = (
            await connection.execute(
                text(
                    "INSERT INTO users (email, role, status, created_at, updated_at) "
                    "VALUES ('m@example.com', 'user', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
                )
            )
        ).scalar_one()
        for provider, cost in (("a", 10), ("b", 5)):
            await connection.execute(
                text(
                    "INSERT INTO usage_daily (day, user_id, api_token_id, model_slug, provider_name, requests, errors, "
                    "prompt_tokens, completion_tokens, units, cost_nanos, upstream_cost_nanos) "
                    "VALUES ('2026-01-02', :user, 0, 'deepseek', :provider, 1, 0, 3, 4, 0, :cost, 1)"
                ),
                {"user": user, "provider": provider, "cost": cost},
            )
    await runtime.engine.dispose()
    url = runtime.settings.async_database_url
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0005")
    async with runtime.engine.connect() as connection:
        rows = (
            await connection.execute(text("SELECT model_id, input_price_nanos FROM ai_model_pricing"))
        ).all()
        folded = (await connection.execute(text("SELECT requests, cost_nanos FROM usage_daily"))).all()
    assert len(rows) == len({model for model, _ in rows})  # one price per model, the current one
    assert 1_000_000 in {price for _, price in rows}  # deepseek's operator price
    assert [tuple(row) for row in folded] == [(2, 15)]  # the two providers' rows, summed
    await runtime.engine.dispose()
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    assert await current_revision(runtime.engine) == head_revision()
