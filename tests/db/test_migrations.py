"""The one migration history runs identically on SQLite and PostgreSQL and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from modelsnest.db.base import Base
from modelsnest.db.migrate import SchemaNotCurrent, check_schema_current, current_revision, head_revision
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
