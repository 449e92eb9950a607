"""The ``modelsnest`` command: the root app and its command groups."""

from __future__ import annotations

import typer

from modelsnest import __version__
from modelsnest.cli import credits, demo, doctor, keys, payments, prices, providers, server, store, users
from modelsnest.cli.core import OneLineErrors

app = typer.Typer(
    name="modelsnest",
    help="Modelsnest: one OpenAI-compatible API and one key for many AI models, billed from prepaid credits.",
    cls=OneLineErrors,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modelsnest {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Configuration comes from MODELSNEST_* environment variables (and ./.env): see env.example."""


app.command("serve")(server.serve)
app.command("migrate")(server.migrate)
app.command("seed")(server.seed)
app.command("doctor")(doctor.doctor)
app.command("demo")(demo.demo)
app.add_typer(users.app, name="users")
app.add_typer(keys.app, name="keys")
app.add_typer(credits.app, name="credits")
app.add_typer(payments.app, name="payments")
app.add_typer(providers.providers_app, name="providers")
app.add_typer(providers.routes_app, name="routes")
app.add_typer(prices.prices_app, name="prices")
app.add_typer(store.app, name="store")


def main() -> None:
    app()
