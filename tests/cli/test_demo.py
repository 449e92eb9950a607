from __future__ import annotations

import re

from tests.cli.conftest import Invoke, snapshot

TOKEN = re.compile(r"ptr_[A-Za-z0-9_-]{43}")


def _token(stdout: str) -> str:
    tokens = set(TOKEN.findall(stdout))
    assert len(tokens) == 1, stdout
    return tokens.pop()


def test_demo_is_idempotent_and_prints_ready_to_paste_examples(cli: Invoke, database_url: str) -> None:
    first = cli("demo")
    assert first.exit_code == 0, first.stderr
    second = cli("demo", "--base-url", "http://10.0.0.5:9000/")
    assert second.exit_code == 0, second.stderr
    token_one, token_two = _token(first.stdout), _token(second.stdout)
    assert token_one != token_two  # a fresh key each time

    assert "Demo account: demo@modelsnest.local (balance $25.00)" in second.stdout
    assert "curl http://127.0.0.1:8000/api/v1/chat/completions" in first.stdout
    assert f'-H "Authorization: Bearer {token_one}"' in first.stdout
    assert '"model": "deepseek"' in first.stdout
    assert 'base_url="http://10.0.0.5:9000/api/v1"' in second.stdout
    sdk = second.stdout[second.stdout.index("from openai import OpenAI") :]
    compile(sdk, "<demo sdk example>", "exec")  # it is valid Python as printed

    rows = snapshot(database_url)
    assert len(rows["users"]) == 1
    assert len(rows["credit_transactions"]) == 1  # $25.00 granted once, however often demo runs
    assert len(rows["api_tokens"]) == 2
    assert rows["user_credits"][0][1] == 25 * 10**9


def test_demo_grants_to_an_existing_demo_account_once(cli: Invoke, database_url: str) -> None:
    assert cli("users", "create", "Demo@modelsnest.local").exit_code == 0
    assert cli("demo").exit_code == 0
    assert cli("demo").exit_code == 0
    assert "balance $25.00" in cli("credits", "show", "demo@modelsnest.local").stdout
    assert len(snapshot(database_url)["credit_transactions"]) == 1


def test_demo_refuses_a_disabled_demo_account(cli: Invoke, database_url: str) -> None:
    assert cli("demo").exit_code == 0
    assert cli("users", "disable", "demo@modelsnest.local").exit_code == 0
    before = snapshot(database_url)
    result = cli("demo")
    assert result.exit_code == 1 and "users enable demo@modelsnest.local" in result.stderr
    assert snapshot(database_url) == before
