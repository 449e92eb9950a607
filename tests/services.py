"""Real services for the tests: a fresh, migrated database per test (SQLite file or a
PostgreSQL database cloned from a migrated template) and a Redis key prefix per test session.

With ``CI=true`` a missing PostgreSQL or Redis fails the run loudly instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from modelsnest.db.migrate import upgrade_to_head
from modelsnest.db.url import to_async_url

POSTGRES_ADMIN_URL = os.environ.get(
    "MODELSNEST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("MODELSNEST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_execute(sql: str) -> None:
    connection = await asyncpg.connect(_dsn(POSTGRES_ADMIN_URL), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def postgres_available() -> bool:
    try:
        asyncio.run(_pg_execute("SELECT 1"))
        return True
    except Exception:
        return False


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


def require(service: str, available: bool) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{service} is required in CI (CI=true) but is unreachable", pytrace=False)
    pytest.skip(f"{service} is not reachable")


def pg_database_url(name: str) -> str:
    return to_async_url(make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False))


def create_pg_template() -> str:
    name = f"ms_tmpl_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
    upgrade_to_head(pg_database_url(name))
    return name


def clone_pg_database(template: str) -> str:
    name = f"ms_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return name


def drop_pg_database(name: str) -> None:
    asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def create_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    upgrade_to_head(to_async_url(f"sqlite:///{path}"))
    return path


def clone_sqlite_database(template: Path, directory: Path) -> str:
    target = directory / f"db-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, target)
    return to_async_url(f"sqlite:///{target}")
