"""``modelsnest payments …``: finish payments stuck waiting for their provider."""

from __future__ import annotations

from typing import Annotated

import typer

from modelsnest.cli.core import run
from modelsnest.payments import Payments
from modelsnest.runtime import Runtime

app = typer.Typer(help="Payments (Stripe, PayPal, Coinbase).", no_args_is_help=True)


@app.command("reconcile")
def reconcile(
    older_than: Annotated[
        int | None,
        typer.Option(
            "--older-than",
            min=0,
            help="Seconds a payment must have waited (default MODELSNEST_PAYMENTS_RECONCILE_AFTER_SECONDS).",
        ),
    ] = None,
) -> None:
    """Ask the providers about payments left created or pending, and complete or close them."""

    async def work(rt: Runtime) -> None:
        payments = Payments.from_settings(rt.settings, rt.sessions)
        try:
            if not payments.providers():
                typer.echo("no payment provider is configured: nothing to reconcile")
                return
            report = await payments.reconcile(older_than_seconds=older_than)
        finally:
            await payments.close()
        typer.echo(
            f"checked {report.checked}: {report.completed} completed, {report.closed} closed, "
            f"{report.unchanged} still waiting, {report.errors} errors"
        )
        if report.errors:
            raise typer.Exit(1)

    run(work)
