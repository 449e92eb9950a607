from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from modelsnest.cli import app
from modelsnest.db.base import Base
from modelsnest.db.engine import create_engine

Invoke = Callable[..., Result]
TEST_SECRET_KEY = "cli-test-secret-key-" + "y" * 32


def _cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no developer .env, and ./var lands in the test's directory
    env = {
        "MODELSNEST_DATABASE_URL": database_url,
        "MODELSNEST_VAR_DIR": str(tmp_path / "var"),
        "MODELSNEST_SECRET_KEY": TEST_SECRET_KEY,
        "MODELSNEST_ENVIRONMENT": "test",
        "MODELSNEST_LOG_FORMAT": "text",
        "MODELSNEST_LOG_LEVEL": "WARNING",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _invoker() -> Invoke:
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the CLI at the test database through the environment, as an operator would."""
    return _cli_env(database_url, tmp_path, monkeypatch)


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Invoke:
    """The CLI, in-process, against a fresh database (once on SQLite, once on PostgreSQL)."""
    return _invoker()


@pytest.fixture
def sqlite_cli(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """The CLI against SQLite only, for behaviour that does not depend on the database."""
    _cli_env(sqlite_url, tmp_path, monkeypatch)
    return _invoker()


def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: compare two snapshots to prove a command changed nothing."""

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        engine = create_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                return {
                    table.name: [tuple(row) for row in await connection.execute(table.select())]
                    for table in Base.metadata.sorted_tables
                }
        finally:
            await engine.dispose()

    return asyncio.run(read())


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """Exit 1, nothing on stdout, exactly one line on stderr starting with 'error:'."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), lines[0]
    return lines[0]
