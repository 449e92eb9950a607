"""``modelsnest users …``: create, list, enable and disable accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from modelsnest.auth.users import (
    UserView,
    create_user,
    get_user_by_email,
    list_users,
    set_user_role,
    set_user_status,
)
from modelsnest.billing import get_balance
from modelsnest.cli import output
from modelsnest.cli.core import actor, parse_usd, run
from modelsnest.db.engine import SessionFactory
from modelsnest.errors import NotFound
from modelsnest.runtime import Runtime

app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)

EmailArg = Annotated[str, typer.Argument(metavar="EMAIL", help="The account's e-mail address.")]


async def require_user(sessions: SessionFactory, email: str) -> UserView:
    """The user with this e-mail (any capitals), or NotFound with a clear message."""
    user = await get_user_by_email(sessions, email)
    if user is None:
        raise NotFound(f"no user with e-mail {email.strip()!r}")
    return user


@app.command("create")
def create(
    email: EmailArg,
    password: Annotated[
        str | None, typer.Option(help="Dashboard password (8+ characters); omit for an API-only account.")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Give the account the admin role.")] = False,
    credits: Annotated[
        str | None, typer.Option(metavar="USD", help="Credits to grant once, in dollars (e.g. 25 or 12.50).")
    ] = None,
) -> None:
    """Create an account, optionally with a password, the admin role and starting credits."""
    credits_nanos = parse_usd(credits) if credits is not None else 0

    async def work(rt: Runtime) -> None:
        user = await create_user(
            rt.sessions,
            email=email,
            password=password,
            role="admin" if admin else "user",
            credits_nanos=credits_nanos,
            actor=actor(),
        )
        balance = await get_balance(rt.sessions, user.id)
        typer.echo(
            f"created user {user.id} {user.email} (role {user.role}), balance {output.usd(balance.balance_nanos)}"
        )

    run(work)


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many users.")] = 1000,
) -> None:
    """List accounts with their role, status and balance."""

    async def work(rt: Runtime) -> None:
        users = await list_users(rt.sessions, limit=limit)
        rows = []
        for user in users:
            balance = await get_balance(rt.sessions, user.id)
            rows.append(
                [
                    user.id,
                    user.email,
                    user.role,
                    user.status,
                    output.usd(balance.balance_nanos),
                    user.created_at,
                ]
            )
        output.table(["ID", "EMAIL", "ROLE", "STATUS", "BALANCE", "CREATED"], rows, empty="(no users)")

    run(work)


def _set_status(email: str, status: str) -> None:
    async def work(rt: Runtime) -> None:
        user = await require_user(rt.sessions, email)
        await set_user_status(rt.sessions, user.id, status)
        typer.echo(f"user {user.email} is {status}")

    run(work)


@app.command("disable")
def disable(email: EmailArg) -> None:
    """Disable an account: its API keys stop working within seconds."""
    _set_status(email, "disabled")


@app.command("enable")
def enable(email: EmailArg) -> None:
    """Re-enable a disabled account."""
    _set_status(email, "active")


@app.command("promote")
def promote(email: EmailArg) -> None:
    """Give an account the admin role (it can then open /admin)."""

    async def work(rt: Runtime) -> None:
        user = await require_user(rt.sessions, email)
        await set_user_role(rt.sessions, user.id, "admin")
        typer.echo(f"user {user.email} is now an admin")

    run(work)
