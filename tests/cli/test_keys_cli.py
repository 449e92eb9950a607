from __future__ import annotations

import asyncio
import re

import pytest

from modelsnest.auth.key_verifier import ApiKeyVerifier
from modelsnest.errors import AuthError
from modelsnest.runtime import Runtime
from modelsnest.settings import Settings
from tests.cli.conftest import Invoke, assert_one_line_error, snapshot

TOKEN = re.compile(r"ptr_[A-Za-z0-9_-]{43}")


def _verify(database_url: str, token: str) -> str:
    """'ok' or the AuthError code, checked against the database like the API would."""

    async def check() -> str:
        runtime = Runtime.create(Settings(database_url=database_url))
        verifier = ApiKeyVerifier(runtime.sessions, ttl_seconds=0)
        try:
            await verifier.verify(f"Bearer {token}")
            return "ok"
        except AuthError as exc:
            return exc.code
        finally:
            await verifier.close()
            await runtime.close()

    return asyncio.run(check())


def test_create_prints_the_token_alone_on_the_last_line(cli: Invoke, database_url: str) -> None:
    cli("users", "create", "ann@example.com")
    created = cli("keys", "create", "ANN@example.com", "--name", "laptop")
    assert created.exit_code == 0, created.stderr
    token = created.stdout.splitlines()[-1]
    assert TOKEN.fullmatch(token)
    assert created.stdout.count(token) == 1
    assert _verify(database_url, token) == "ok"

    listed = cli("keys", "list", "ann@example.com")
    assert listed.exit_code == 0
    assert token not in listed.stdout and token[:12] in listed.stdout
    assert "laptop" in listed.stdout and "active" in listed.stdout

    revoked = cli("keys", "revoke", token[:12])
    assert revoked.exit_code == 0 and "revoked key" in revoked.stdout and "ann@example.com" in revoked.stdout
    assert token not in revoked.stdout
    assert "revoked" in cli("keys", "list", "ann@example.com").stdout
    assert _verify(database_url, token) == "INVALID_TOKEN"


def test_create_with_limits_and_revoke_by_id(cli: Invoke) -> None:
    cli("users", "create", "ann@example.com")
    created = cli(
        "keys",
        "create",
        "ann@example.com",
        "--spend-limit",
        "5",
        "--rpm",
        "60",
        "--tpm",
        "1000",
        "--model",
        "deepseek",
        "--model",
        "gpt-4o",
        "--expires-in-days",
        "30",
    )
    assert created.exit_code == 0, created.stderr
    listed = cli("keys", "list", "ann@example.com").stdout
    assert "spend≤$5.00 rpm=60 tpm=1000 models=deepseek,gpt-4o" in listed
    key_id = listed.splitlines()[1].split()[0]
    assert cli("keys", "revoke", key_id).exit_code == 0


def test_list_without_keys(cli: Invoke) -> None:
    cli("users", "create", "ann@example.com")
    assert "(no keys for ann@example.com)" in cli("keys", "list", "ann@example.com").stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["keys", "create", "ghost@example.com"], ["no user"]),
        (["keys", "create", "ann@example.com", "--name", "  "], ["name"]),
        (["keys", "create", "ann@example.com", "--spend-limit", "-1"], ["invalid amount"]),
        (["keys", "create", "ann@example.com", "--rpm", "0"], ["--rpm"]),
        (["keys", "list", "ghost@example.com"], ["no user"]),
        (["keys", "revoke", "ptr_nothing1"], ["no api key"]),
        (["keys", "revoke", "424242"], ["no api key"]),
        (["keys", "revoke", "hello"], ["prefix"]),
        (["keys", "revoke", "ptr_" + "Q" * 43], ["no api key"]),
    ],
)
def test_bad_input_changes_nothing(
    cli: Invoke, database_url: str, args: list[str], fragments: list[str]
) -> None:
    assert cli("users", "create", "ann@example.com").exit_code == 0
    assert cli("keys", "create", "ann@example.com").exit_code == 0
    before = snapshot(database_url)
    line = assert_one_line_error(cli(*args), *fragments)
    assert "Q" * 20 not in line  # a pasted token is never echoed back in full
    assert snapshot(database_url) == before
