"""Configuration and database problems: one line on stderr, exit 1, no traceback, no secret."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import services
from tests.cli.conftest import Invoke, assert_one_line_error


def test_unreachable_postgres_hides_the_password(sqlite_cli: Invoke) -> None:
    result = sqlite_cli(
        "users", "list", env={"MODELSNEST_DATABASE_URL": "postgresql://ops:hunter2@127.0.0.1:1/nope"}
    )
    line = assert_one_line_error(result, "cannot reach the database")
    assert "hunter2" not in line and "127.0.0.1:1" in line


def test_unsupported_database_url(sqlite_cli: Invoke) -> None:
    result = sqlite_cli("users", "list", env={"MODELSNEST_DATABASE_URL": "mysql://u:secret@db/x"})
    line = assert_one_line_error(result, "MODELSNEST_DATABASE_URL", "unsupported")
    assert "secret" not in line


def test_invalid_setting(sqlite_cli: Invoke) -> None:
    result = sqlite_cli("users", "list", env={"MODELSNEST_DB_POOL_SIZE": "lots"})
    assert_one_line_error(result, "invalid configuration", "MODELSNEST_DB_POOL_SIZE")


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database that exists but was never migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    services.require("PostgreSQL", services.postgres_available())
    name = f"ms_empty_{uuid.uuid4().hex[:12]}"
    asyncio.run(services._pg_execute(f'CREATE DATABASE "{name}"'))
    yield services.pg_database_url(name)
    services.drop_pg_database(name)


def test_unmigrated_database_is_refused_until_migrate(sqlite_cli: Invoke, empty_database_url: str) -> None:
    env = {"MODELSNEST_DATABASE_URL": empty_database_url}
    assert_one_line_error(sqlite_cli("users", "list", env=env), "modelsnest migrate")
    migrated = sqlite_cli("migrate", env=env)
    assert migrated.exit_code == 0, migrated.stderr
    assert "migrated from empty to" in migrated.stdout
    again = sqlite_cli("migrate", env=env)
    assert again.exit_code == 0 and "already at" in again.stdout
    assert sqlite_cli("users", "list", env=env).exit_code == 0


def test_serve_refuses_an_unmigrated_database(sqlite_cli: Invoke, tmp_path: Path) -> None:
    env = {"MODELSNEST_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    assert_one_line_error(sqlite_cli("serve", "--port", "1", env=env), "modelsnest migrate")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["serve", "--port", "0"], "--port"),
        (["serve", "--workers", "zero"], "--workers"),
        (["nonsense"], "no such command"),
        (["--bogus"], "no such option"),
    ],
)
def test_usage_errors_are_one_line(sqlite_cli: Invoke, args: list[str], fragment: str) -> None:
    assert_one_line_error(sqlite_cli(*args), fragment)


@pytest.mark.parametrize("group", ["users", "keys", "credits"])
def test_groups_without_a_command_print_help(sqlite_cli: Invoke, group: str) -> None:
    result = sqlite_cli(group)
    assert result.exit_code == 0 and "Usage" in result.stdout


def test_every_command_has_help(sqlite_cli: Invoke) -> None:
    commands = [
        [],
        ["serve"],
        ["migrate"],
        ["seed"],
        ["doctor"],
        ["demo"],
        ["users", "create"],
        ["users", "list"],
        ["users", "disable"],
        ["users", "enable"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
        ["credits", "grant"],
        ["credits", "show"],
        ["providers", "add"],
        ["providers", "list"],
        ["routes", "add"],
        ["routes", "list"],
    ]
    for command in commands:
        result = sqlite_cli(*command, "--help")
        assert result.exit_code == 0, (command, result.stderr)
        assert "Usage" in result.stdout, command


def test_version(sqlite_cli: Invoke) -> None:
    result = sqlite_cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("modelsnest ")
