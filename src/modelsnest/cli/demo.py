"""``modelsnest demo``: a demo account with $25.00 (granted once), a fresh key, and the two ways
to call the API with it (curl and the OpenAI Python SDK), ready to paste."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from modelsnest.auth.api_keys import create_key
from modelsnest.auth.users import UserView, create_user, get_user_by_email, grant_credits
from modelsnest.billing import get_balance
from modelsnest.cli import output
from modelsnest.cli.core import CliError, actor, run
from modelsnest.errors import Conflict
from modelsnest.money import NANOS_PER_USD
from modelsnest.runtime import Runtime

DEMO_EMAIL = "demo@modelsnest.local"
DEMO_CREDITS_NANOS = 25 * NANOS_PER_USD
DEMO_MODEL = "deepseek"
DEMO_PROMPT = "Say hello in five words."


def demo_grant_key(user_id: int) -> str:
    return f"demo:credits:user:{user_id}"


def demo(
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Where the server is reached (default: MODELSNEST_PUBLIC_URL, else http://127.0.0.1:8000)."
        ),
    ] = None,
) -> None:
    """Set up the demo account (idempotent) and print a new key with curl and SDK examples."""

    async def work(rt: Runtime) -> tuple[UserView, str, int, str]:
        user = await _demo_user(rt)
        if user.status != "active":
            raise CliError(f"the demo account is disabled: run `modelsnest users enable {DEMO_EMAIL}`")
        await grant_credits(
            rt.sessions,
            user_id=user.id,
            amount_nanos=DEMO_CREDITS_NANOS,
            actor=actor(),
            reason="demo credits",
            idempotency_key=demo_grant_key(user.id),
        )
        _, token = await create_key(rt.sessions, user_id=user.id, name="demo")
        balance = await get_balance(rt.sessions, user.id)
        return user, token, balance.balance_nanos, rt.settings.public_url or "http://127.0.0.1:8000"

    user, token, balance, configured_url = run(work)
    api_base = (base_url or configured_url).rstrip("/") + "/api/v1"
    typer.echo(f"Demo account: {user.email} (balance {output.usd(balance)})")
    typer.echo(f"Demo API key (new, shown once): {token}")
    typer.echo("")
    typer.echo("curl:")
    typer.echo(curl_example(api_base, token))
    typer.echo("")
    typer.echo("Python (pip install openai):")
    typer.echo(sdk_example(api_base, token))


def curl_example(api_base: str, token: str) -> str:
    body = json.dumps({"model": DEMO_MODEL, "messages": [{"role": "user", "content": DEMO_PROMPT}]})
    return (
        f"curl {api_base}/chat/completions \\\n"
        f'  -H "Authorization: Bearer {token}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d '{body}'"
    )


def sdk_example(api_base: str, token: str) -> str:
    return (
        "from openai import OpenAI\n"
        "\n"
        f'client = OpenAI(base_url="{api_base}", api_key="{token}")\n'
        "response = client.chat.completions.create(\n"
        f'    model="{DEMO_MODEL}",\n'
        f'    messages=[{{"role": "user", "content": "{DEMO_PROMPT}"}}],\n'
        ")\n"
        "print(response.choices[0].message.content)"
    )


async def _demo_user(rt: Runtime) -> UserView:
    user = await get_user_by_email(rt.sessions, DEMO_EMAIL)
    if user is not None:
        return user
    try:
        return await create_user(rt.sessions, email=DEMO_EMAIL, actor=actor())
    except Conflict:  # a concurrent `demo` created it first
        user = await get_user_by_email(rt.sessions, DEMO_EMAIL)
        if user is None:
            raise
        return user
