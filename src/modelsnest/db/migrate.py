"""Run and inspect migrations from code (the CLI, the app's start-up check, the tests).

Migrations are the only way the schema changes; the app refuses to start on a database that
is not at head (``SchemaNotCurrent``)."""

from __future__ import annotations

import asyncio
import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Alembic (9 MB, and reading every migration script) is needed to migrate and to find the head,
# not to run: `serve` finds the head once and hands it to its workers in this variable, so a
# worker's start-up check and /readyz compare the database with it without loading Alembic.
HEAD_ENV = "MODELSNEST_SCHEMA_HEAD"
VERSION_TABLE = "alembic_version"


class SchemaNotCurrent(RuntimeError):
    pass


def alembic_config(async_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would eat a '%' in a password.
    config.set_main_option("sqlalchemy.url", async_url.replace("%", "%%"))
    return config


def upgrade_to_head(async_url: str) -> None:
    """Blocking; runs its own event loop, so call it from sync code or a worker thread."""
    from alembic import command

    command.upgrade(alembic_config(async_url), "head")


@functools.cache
def head_revision() -> str | None:
    """The code's latest migration: from ``HEAD_ENV`` when a supervisor set it, else read from
    the migration scripts (once per process: they do not change while it runs)."""
    given = os.environ.get(HEAD_ENV)
    if given:
        return given
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def publish_head_revision() -> None:
    """Read the head here, once, for the worker processes started after this call."""
    os.environ[HEAD_ENV] = head_revision() or ""


def _has_version_table(connection: Connection) -> bool:
    return inspect(connection).has_table(VERSION_TABLE)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's migration (None on an empty database), read as Alembic stores it: one
    row in ``alembic_version`` for our single line of migrations."""
    async with engine.connect() as connection:
        if not await connection.run_sync(_has_version_table):
            return None
        revision = await connection.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return str(revision) if revision is not None else None


async def check_schema_current(engine: AsyncEngine) -> None:
    current = await current_revision(engine)
    head = head_revision()
    if current != head:
        raise SchemaNotCurrent(
            f"database schema is at {current or 'nothing'}, code expects {head}: "
            "run `modelsnest migrate` first"
        )


async def upgrade_to_head_async(async_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, async_url)
