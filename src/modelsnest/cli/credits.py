"""``modelsnest credits …``: grant credits, show a balance and the latest ledger rows."""

from __future__ import annotations

from typing import Annotated

import typer

from modelsnest.auth.users import grant_credits
from modelsnest.billing import get_balance, list_transactions
from modelsnest.cli import output
from modelsnest.cli.core import actor, parse_usd, run
from modelsnest.cli.users import EmailArg, require_user
from modelsnest.runtime import Runtime

app = typer.Typer(help="Grant and inspect prepaid credits.", no_args_is_help=True)


# Unknown options are kept as arguments so that "-5" reaches the amount check.
@app.command("grant", context_settings={"ignore_unknown_options": True})
def grant(
    email: EmailArg,
    usd: Annotated[str, typer.Argument(metavar="USD", help="Dollars to grant, e.g. 25 or 12.50.")],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the ledger row).")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Makes a retried grant a no-op: the same key grants once.")
    ] = None,
) -> None:
    """Grant credits to a user (a 'bonus' ledger row)."""
    amount = parse_usd(usd)

    async def work(rt: Runtime) -> None:
        user = await require_user(rt.sessions, email)
        result = await grant_credits(
            rt.sessions,
            user_id=user.id,
            amount_nanos=amount,
            actor=actor(),
            reason=reason,
            idempotency_key=idempotency_key,
        )
        verb = "already granted" if result.replayed else "granted"
        typer.echo(
            f"{verb} {output.usd(result.amount_nanos)} to {user.email} (transaction {result.transaction_id}); "
            f"balance {output.usd(result.balance_after_nanos)}"
        )

    run(work)


@app.command("show")
def show(
    email: EmailArg,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many recent ledger rows to list.")] = 10,
) -> None:
    """Show a user's balance and latest ledger rows."""

    async def work(rt: Runtime) -> None:
        user = await require_user(rt.sessions, email)
        balance = await get_balance(rt.sessions, user.id)
        typer.echo(
            f"{user.email}: balance {output.usd(balance.balance_nanos)}, "
            f"reserved {output.usd(balance.reserved_nanos)}, available {output.usd(balance.available_nanos)}"
        )
        rows = [
            [
                t.id,
                t.created_at,
                t.type,
                output.usd(t.amount_nanos),
                output.usd(t.balance_after_nanos),
                t.description,
            ]
            for t in await list_transactions(rt.sessions, user.id, limit=limit)
        ]
        output.table(
            ["ID", "WHEN", "TYPE", "AMOUNT", "BALANCE AFTER", "DESCRIPTION"], rows, empty="(no transactions)"
        )

    run(work)
