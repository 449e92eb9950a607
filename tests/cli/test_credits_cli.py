from __future__ import annotations

import pytest

from tests.cli.conftest import Invoke, assert_one_line_error, snapshot


def test_grant_and_show(cli: Invoke) -> None:
    assert cli("users", "create", "ann@example.com").exit_code == 0
    granted = cli("credits", "grant", "ANN@example.com", "10", "--reason", "welcome")
    assert granted.exit_code == 0, granted.stderr
    assert "granted $10.00 to ann@example.com" in granted.stdout and "balance $10.00" in granted.stdout
    assert cli("credits", "grant", "ann@example.com", "$0.000000001").exit_code == 0

    shown = cli("credits", "show", "ann@example.com")
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "ann@example.com: balance $10.000000001, reserved $0.00, available $10.000000001"
    assert lines[1].split()[:3] == ["ID", "WHEN", "TYPE"]
    assert "bonus" in lines[2] and "$0.000000001" in lines[2]
    assert "bonus" in lines[3] and "welcome" in lines[3]


def test_grant_with_an_idempotency_key_grants_once(cli: Invoke) -> None:
    cli("users", "create", "ann@example.com")
    first = cli("credits", "grant", "ann@example.com", "5", "--idempotency-key", "promo-2026")
    again = cli("credits", "grant", "ann@example.com", "5", "--idempotency-key", "promo-2026")
    assert first.exit_code == again.exit_code == 0
    assert again.stdout.startswith("already granted $5.00")
    assert "balance $5.00" in cli("credits", "show", "ann@example.com").stdout


def test_show_without_transactions(cli: Invoke) -> None:
    cli("users", "create", "ann@example.com")
    shown = cli("credits", "show", "ann@example.com")
    assert shown.exit_code == 0 and "(no transactions)" in shown.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["credits", "grant", "ghost@example.com", "5"], ["no user", "ghost@example.com"]),
        (["credits", "grant", "ann@example.com", "-5"], ["invalid amount"]),
        (["credits", "grant", "ann@example.com", "0"], ["invalid amount"]),
        (["credits", "grant", "ann@example.com", "0.00"], ["invalid amount"]),
        (["credits", "grant", "ann@example.com", "five"], ["invalid amount"]),
        (["credits", "grant", "ann@example.com", "1.0000000001"], ["precision"]),
        (["credits", "grant", "ann@example.com", "inf"], ["invalid amount"]),
        (["credits", "grant", "ann@example.com"], ["missing argument"]),
        (["credits", "show", "ghost@example.com"], ["no user"]),
    ],
)
def test_bad_input_changes_nothing(
    cli: Invoke, database_url: str, args: list[str], fragments: list[str]
) -> None:
    assert cli("users", "create", "ann@example.com", "--credits", "1").exit_code == 0
    before = snapshot(database_url)
    assert_one_line_error(cli(*args), *fragments)
    assert snapshot(database_url) == before
