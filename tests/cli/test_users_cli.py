from __future__ import annotations

import pytest

from tests.cli.conftest import Invoke, assert_one_line_error, snapshot


def test_create_and_list_users(cli: Invoke) -> None:
    created = cli("users", "create", "Ann@Example.com", "--password", "correct horse", "--credits", "12.50")
    assert created.exit_code == 0, created.stderr
    assert "created user" in created.stdout and "Ann@example.com" in created.stdout
    assert "$12.50" in created.stdout
    assert "correct horse" not in created.stdout
    admin = cli("users", "create", "root@example.com", "--admin")
    assert admin.exit_code == 0 and "role admin" in admin.stdout

    listed = cli("users", "list")
    assert listed.exit_code == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "EMAIL", "ROLE", "STATUS", "BALANCE", "CREATED"]
    assert "Ann@example.com" in lines[1] and "$12.50" in lines[1] and "active" in lines[1]
    assert "root@example.com" in lines[2] and "admin" in lines[2] and "$0.00" in lines[2]


def test_disable_and_enable(cli: Invoke) -> None:
    cli("users", "create", "ann@example.com")
    disabled = cli("users", "disable", "ANN@example.com")
    assert disabled.exit_code == 0 and "disabled" in disabled.stdout
    assert "disabled" in cli("users", "list").stdout
    assert cli("users", "enable", "ann@example.com").exit_code == 0
    assert "active" in cli("users", "list").stdout


def test_promote_gives_an_existing_account_the_admin_role(cli: Invoke) -> None:
    cli("users", "create", "ops@example.com", "--password", "correct horse")
    promoted = cli("users", "promote", "OPS@example.com")
    assert promoted.exit_code == 0, promoted.stderr
    assert "now an admin" in promoted.stdout
    assert "admin" in cli("users", "list").stdout.splitlines()[1]
    assert cli("users", "promote", "ghost@example.com").exit_code == 1


def test_empty_list(cli: Invoke) -> None:
    result = cli("users", "list")
    assert result.exit_code == 0 and result.stdout.strip() == "(no users)"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["users", "create", "not-an-email"], ["e-mail"]),
        (["users", "create", "dup@EXAMPLE.com"], ["already exists"]),
        (["users", "create", "new@example.com", "--password", "short"], ["at least 8"]),
        (["users", "create", "new@example.com", "--credits", "-5"], ["invalid amount"]),
        (["users", "create", "new@example.com", "--credits", "0"], ["invalid amount"]),
        (["users", "create", "new@example.com", "--credits", "ten"], ["invalid amount"]),
        (["users", "create", "new@example.com", "--credits", "0.0000000001"], ["precision"]),
        (["users", "create", "new@example.com", "--credits", "nan"], ["invalid amount"]),
        (["users", "create", "new@example.com", "--credits", "1000000001"], ["implausibly large"]),
        (["users", "create"], ["missing argument", "--help"]),
        (["users", "create", "new@example.com", "--bogus"], ["no such option"]),
        (["users", "disable", "ghost@example.com"], ["no user"]),
        (["users", "frobnicate"], ["no such command"]),
    ],
)
def test_bad_input_is_one_line_exit_1_and_changes_nothing(
    cli: Invoke, database_url: str, args: list[str], fragments: list[str]
) -> None:
    assert cli("users", "create", "dup@example.com", "--credits", "1").exit_code == 0
    before = snapshot(database_url)
    assert_one_line_error(cli(*args), *fragments)
    assert snapshot(database_url) == before
