"""``modelsnest keys …``: create (the token is printed once, alone on the last line), list, revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from modelsnest.auth.api_keys import create_key, list_keys, revoke_key
from modelsnest.auth.users import get_user
from modelsnest.cli import output
from modelsnest.cli.core import parse_usd, run
from modelsnest.cli.users import EmailArg, require_user
from modelsnest.db.base import utcnow
from modelsnest.runtime import Runtime

app = typer.Typer(help="Manage API keys (ptr_…).", no_args_is_help=True)


@app.command("create")
def create(
    email: EmailArg,
    name: Annotated[str, typer.Option(help="A label to tell keys apart.")] = "default",
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Expire the key after this many days.")
    ] = None,
    spend_limit: Annotated[
        str | None, typer.Option(metavar="USD", help="Lifetime spend limit of this key, in dollars.")
    ] = None,
    rpm: Annotated[int | None, typer.Option(min=1, help="Requests per minute allowed.")] = None,
    tpm: Annotated[int | None, typer.Option(min=1, help="Tokens per minute allowed.")] = None,
    model: Annotated[
        list[str] | None, typer.Option(help="Allow only this model (repeat for several); default: all.")
    ] = None,
) -> None:
    """Create an API key. The token is shown once, alone on the last line of the output."""
    spend_limit_nanos = parse_usd(spend_limit) if spend_limit is not None else None
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None

    async def work(rt: Runtime) -> str:
        user = await require_user(rt.sessions, email)
        view, token = await create_key(
            rt.sessions,
            user_id=user.id,
            name=name,
            expires_at=expires_at,
            spend_limit_nanos=spend_limit_nanos,
            rpm_limit=rpm,
            tpm_limit=tpm,
            allowed_models=model,
        )
        typer.echo(f"created key {view.id} {view.name!r} ({view.prefix}…) for {user.email}")
        typer.echo("store it now: it cannot be shown again")
        return token

    typer.echo(run(work))


@app.command("list")
def list_(email: EmailArg) -> None:
    """List a user's keys (never the tokens themselves)."""

    async def work(rt: Runtime) -> None:
        user = await require_user(rt.sessions, email)
        keys = await list_keys(rt.sessions, user.id)
        rows = [
            [
                k.id,
                k.name,
                k.prefix + "…",
                k.status,
                k.created_at,
                k.last_used_at,
                k.expires_at,
                output.usd(k.spent_nanos),
                _limits(k.spend_limit_nanos, k.rpm_limit, k.tpm_limit, k.allowed_models),
            ]
            for k in keys
        ]
        headers = ["ID", "NAME", "PREFIX", "STATUS", "CREATED", "LAST USED", "EXPIRES", "SPENT", "LIMITS"]
        output.table(headers, rows, empty=f"(no keys for {user.email})")

    run(work)


@app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(metavar="TOKEN_PREFIX_OR_ID", help="The key's id or prefix (ptr_…).")],
) -> None:
    """Revoke a key; every server refuses it within seconds."""

    async def work(rt: Runtime) -> None:
        view = await revoke_key(rt.sessions, key)
        owner = await get_user(rt.sessions, view.user_id)
        typer.echo(
            f"revoked key {view.id} {view.name!r} ({view.prefix}…) of {owner.email if owner else view.user_id}"
        )

    run(work)


def _limits(spend: int | None, rpm: int | None, tpm: int | None, models: list[str] | None) -> str:
    parts = []
    if spend is not None:
        parts.append(f"spend≤{output.usd(spend)}")
    if rpm is not None:
        parts.append(f"rpm={rpm}")
    if tpm is not None:
        parts.append(f"tpm={tpm}")
    if models is not None:
        parts.append("models=" + ",".join(models))
    return " ".join(parts) or "-"
