from __future__ import annotations

import pytest

from tests.cli.conftest import Invoke, assert_one_line_error, snapshot


def test_seed_is_idempotent(cli: Invoke) -> None:
    first = cli("seed")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith("catalog seeded: created")
    second = cli("seed")
    assert second.exit_code == 0
    assert "created nothing; updated nothing" in second.stdout


def test_add_and_list_providers_and_routes(cli: Invoke, database_url: str) -> None:
    assert cli("seed").exit_code == 0
    added = cli(
        "providers",
        "add",
        "openai-eu",
        "--kind",
        "openai",
        "--base-url",
        "https://eu.example.com/v1/",
        "--api-key",
        "sk-very-secret-123",
    )
    assert added.exit_code == 0, added.stderr
    assert "added provider openai-eu" in added.stdout and "sk-very-secret-123" not in added.stdout
    assert "sk-very-secret-123" not in repr(snapshot(database_url))  # stored encrypted

    listed = cli("providers", "list")
    assert listed.exit_code == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:4] == ["NAME", "KIND", "BASE", "URL"]
    [row] = [r for r in rows if r.startswith("openai-eu")]
    assert "https://eu.example.com/v1" in row and "healthy" in row and " yes " in row
    assert "sk-very-secret-123" not in listed.stdout

    route = cli("routes", "add", "deepseek", "openai-eu", "deepseek-chat", "--priority", "5", "--weight", "3")
    assert route.exit_code == 0, route.stderr
    assert "deepseek -> openai-eu (deepseek-chat), priority 5, weight 3" in route.stdout
    routes = cli("routes", "list", "deepseek")
    assert routes.exit_code == 0
    first_route = routes.stdout.splitlines()[1].split()
    assert first_route[:5] == ["deepseek", "openai-eu", "deepseek-chat", "5", "3"]
    assert "deepseek" in cli("routes", "list").stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["providers", "add", "x1", "--kind", "bogus"], ["unknown provider kind"]),
        (["providers", "add", "x1", "--kind", "openai", "--base-url", "not a url"], ["base url"]),
        (["providers", "add", "x1", "--kind", "openai", "--base-url", "ftp://example.com"], ["http"]),
        (["providers", "add", "Bad Name", "--kind", "openai"], ["names"]),
        (["providers", "add", "dup", "--kind", "openai"], ["already exists"]),
        (["providers", "add", "x1"], ["--kind"]),
        (["routes", "add", "no-such-model", "dup", "m"], ["no model"]),
        (["routes", "add", "deepseek", "no-such-provider", "m"], ["no provider"]),
        (["routes", "add", "deepseek", "dup", "m", "--weight", "-1"], ["--weight"]),
        (["routes", "list", "no-such-model"], ["no model"]),
    ],
)
def test_bad_input_changes_nothing(
    cli: Invoke, database_url: str, args: list[str], fragments: list[str]
) -> None:
    assert cli("seed").exit_code == 0
    assert cli("providers", "add", "dup", "--kind", "openai").exit_code == 0
    before = snapshot(database_url)
    assert_one_line_error(cli(*args), *fragments)
    assert snapshot(database_url) == before
