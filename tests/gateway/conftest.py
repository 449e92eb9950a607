from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modelsnest.catalog.seed import seed_catalog
from modelsnest.crypto import SecretBox
from modelsnest.db.engine import create_engine, create_session_factory
from tests import services
from tests.live import SECRET_KEY, Platform, ServerProcess, start_server


async def _seed(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=2)
    try:
        await seed_catalog(
            create_session_factory(engine),
            secret_box=SecretBox(SECRET_KEY),
            simulator_enabled=True,
            provider_keys={},
        )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def live_database(postgres_template: str) -> Iterator[str]:
    """One seeded PostgreSQL database per test module (tests isolate by account and model)."""
    name = services.clone_pg_database(postgres_template)
    url = services.pg_database_url(name)
    asyncio.run(_seed(url))
    yield url
    services.drop_pg_database(name)


@pytest.fixture(scope="module")
def live_server(live_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(live_database, tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture
async def platform(live_database: str) -> AsyncIterator[Platform]:
    p = Platform(live_database)
    yield p
    await p.close()


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"
