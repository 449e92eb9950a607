"""Real services for the tests: a fresh, migrated database per test (SQLite file or a
PostgreSQL database cloned from a migrated template) and a Redis key prefix per test session.

With ``CI=true`` a missing PostgreSQL or Redis fails the run loudly instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
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


# Test databases carry their creation time, so a later run can drop what a killed run left.
STALE_AFTER_SECONDS = 3 * 3600


def _stamped(prefix: str) -> str:
    return f"{prefix}_{int(time.time())}_{uuid.uuid4().hex[:8]}"


async def _drop_stale() -> None:
    connection = await asyncpg.connect(_dsn(POSTGRES_ADMIN_URL), timeout=5)
    try:
        names = [
            row["datname"]
            for row in await connection.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE 'ms\\_test\\_%' OR datname LIKE 'ms\\_tmpl\\_%'"
            )
        ]
        cutoff = time.time() - STALE_AFTER_SECONDS
        for name in names:
            parts = name.split("_")
            if len(parts) == 4 and parts[2].isdigit() and int(parts[2]) < cutoff:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def drop_stale_databases() -> None:
    """Drop test databases older than a few hours (left by runs that were killed)."""
    asyncio.run(_drop_stale())


def create_pg_template() -> str:
    name = _stamped("ms_tmpl")
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
    upgrade_to_head(pg_database_url(name))
    return name


def clone_pg_database(template: str) -> str:
    name = _stamped("ms_test")
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
