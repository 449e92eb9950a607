"""``modelsnest store list|add|update|disable|test``."""

from __future__ import annotations

from tests.cli.conftest import Invoke, snapshot
from tests.fakes.http_api import FakeHttpApi


def test_add_list_update_disable_and_test_a_product(cli: Invoke, database_url: str) -> None:
    assert cli("seed").exit_code == 0
    with FakeHttpApi().running() as fake:
        added = cli(
            "store", "add", "echo", "--name", "Echo API", "--upstream", fake.url + "/v1",
            "--price", "0.002", "--method", "GET,POST", "--path", "items/*",
            "--auth-header", "X-Key", "--secret", "very-secret-456", "--allow-private-network",
        )  # fmt: skip
        assert added.exit_code == 0, added.stderr
        assert "added store product echo" in added.stdout and "very-secret-456" not in added.stdout
        assert "very-secret-456" not in repr(snapshot(database_url))  # stored encrypted

        listed = cli("store", "list")
        assert listed.exit_code == 0, listed.stderr
        header, *rows = listed.stdout.splitlines()
        assert header.split()[:3] == ["SLUG", "CATEGORY", "UPSTREAM"]
        [row] = [r for r in rows if r.startswith("echo ")]
        assert "GET,POST" in row and "$0.002" in row and "active" in row
        assert any(r.startswith("qr-code ") for r in rows)

        tested = cli("store", "test", "echo", "--path", "items/1")
        assert tested.exit_code == 0, tested.stderr
        assert tested.stdout.startswith("echo: 200 in ")
        assert fake.requests[-1].headers["X-Key"] == "very-secret-456"

    updated = cli("store", "update", "echo", "--price", "0.005", "--rpm", "10")
    assert updated.exit_code == 0, updated.stderr
    assert "$0.005/call" in updated.stdout
    disabled = cli("store", "disable", "echo")
    assert disabled.exit_code == 0 and "disabled" in disabled.stdout
    failing = cli("store", "test", "nope")
    assert failing.exit_code == 1


def test_bad_input_is_one_line_on_stderr(cli: Invoke) -> None:
    result = cli("store", "add", "x", "--name", "X", "--upstream", "ftp://x", "--price", "0.1")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
