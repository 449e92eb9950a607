from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modelsnest.providers.registry import default_registry
from modelsnest.runtime import Runtime
from modelsnest.settings import Settings
from tests import services
from tests.fakes.fixtures import (  # noqa: F401  (fixtures for every test package)
    _anthropic_upstream_server,
    _elevenlabs_upstream_server,
    _novita_upstream_server,
    _openai_upstream_server,
    anthropic_upstream,
    anthropic_upstream_in_loop,
    elevenlabs_upstream,
    elevenlabs_upstream_in_loop,
    fake_upstream_process,
    novita_upstream,
    novita_upstream_in_loop,
    openai_upstream,
    openai_upstream_in_loop,
)

# Tests never read a developer's .env or provider keys from the environment.
for _name in default_registry.env_vars().values():
    os.environ.pop(_name, None)
for _name in [n for n in os.environ if n.startswith("MODELSNEST_") and not n.startswith("MODELSNEST_TEST_")]:
    os.environ.pop(_name)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    services.require("PostgreSQL", services.postgres_available())
    services.drop_stale_databases()
    name = services.create_pg_template()
    yield name
    services.drop_pg_database(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return services.create_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    name = services.clone_pg_database(postgres_template)
    yield services.pg_database_url(name)
    services.drop_pg_database(name)


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return services.clone_sqlite_database(sqlite_template, tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database: each test using it runs once on SQLite and once on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def redis_url() -> str:
    services.require("Redis", services.redis_available())
    return services.REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """Keys a test writes to Redis start with this, so parallel runs never collide."""
    return f"mstest:{uuid.uuid4().hex[:10]}:"


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "var_dir": tmp_path / "var",
        "secret_key": "test-secret-key-" + "x" * 32,
        "environment": "test",
        "log_format": "text",
        "log_level": "WARNING",
        "gc_tuning": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = Runtime.create(settings)
    yield rt
    await rt.close()
