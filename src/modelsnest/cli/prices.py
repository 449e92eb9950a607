"""``modelsnest prices …``: selling prices by dimension, their history, routes that cost more
than they sell for, and margins; and the price options ``routes add``/``routes cost`` share.

Prices are USD per price unit (per 1K tokens, per image …) written as decimals (``0.003``).
Beyond ``--input``/``--output`` each token dimension has its option, and any component can be
given as ``--price KEY=USD`` (``input>200000=0.0025`` a context tier,
``image:1024x1024/high=0.167`` an image variant; see ``catalog.price_input``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer

from modelsnest.billing import margins as margin_reports
from modelsnest.catalog import prices as catalog_prices
from modelsnest.catalog.price_input import parse_component_key, parse_price, price_entries
from modelsnest.catalog.types import PriceInfo
from modelsnest.cli import output
from modelsnest.cli.core import CliError, actor, run
from modelsnest.runtime import Runtime

prices_app = typer.Typer(help="Selling prices by dimension, price history and margins.", no_args_is_help=True)

USD = "USD per price unit (per 1K tokens, per image, …)"
PriceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--price",
        help="KEY=USD for any component: cached_input=0.0003, input>200000=0.0025, "
        "image:1024x1024/high=0.167 (repeatable).",
    ),
]
ClearOption = Annotated[list[str] | None, typer.Option("--clear", help="Drop this component (repeatable).")]
_DIMENSION_OPTIONS = (
    "input",
    "output",
    "cached_input",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "audio_input",
    "audio_output",
)


def price_updates(named: dict[str, str | None], pairs: list[str] | None) -> dict[str, str]:
    """``{key: USD}`` from the dimension options and ``--price KEY=USD`` pairs."""
    updates = {key: value for key, value in named.items() if value is not None}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise CliError(f"--price {pair!r}: write KEY=USD, e.g. cached_input=0.0003")
        parse_component_key(key)
        updates[key.strip()] = value.strip().removeprefix("$")
    return updates


def build_price(
    base: PriceInfo | None, unit: str | None, updates: dict[str, str], clear: list[str] | None
) -> PriceInfo:
    """``base``'s entries (when given), changed by ``updates`` and without ``clear``."""
    entries = price_entries(base) if base is not None else {}
    if unit is not None and base is not None and unit != base.unit:
        entries = {}  # another unit: the old components mean nothing in it
    entries.update(updates)
    for key in clear or ():
        if entries.pop(key.strip(), None) is None:
            raise CliError(f"--clear {key!r}: the price has no such component")
    chosen = unit or (base.unit if base is not None else None)
    if chosen is None:
        raise CliError("give --unit (per_1k_tokens, per_image, per_second, …) for a new price")
    return parse_price(chosen, entries)


def price_rows(price: PriceInfo) -> list[list[object]]:
    return [[key, f"${value}"] for key, value in price_entries(price).items()]


def summary(price: PriceInfo | None) -> str:
    if price is None:
        return "unknown"
    parts = [f"{key} ${value}" for key, value in price_entries(price).items()]
    return f"{price.unit}: " + ", ".join(parts)


@prices_app.command("set")
def set_price(
    model_slug: Annotated[str, typer.Argument(metavar="MODEL", help="The catalog model, e.g. gpt-4o.")],
    reason: Annotated[str, typer.Option(help="Why the price changes (kept in the history).")],
    unit: Annotated[str | None, typer.Option(help="Price unit (default: the current one).")] = None,
    input: Annotated[str | None, typer.Option("--input", help=f"Base input, {USD}.")] = None,
    output_: Annotated[str | None, typer.Option("--output", help=f"Base output, {USD}.")] = None,
    cached_input: Annotated[str | None, typer.Option(help="Cache reads, per 1K tokens.")] = None,
    cache_write: Annotated[str | None, typer.Option(help="Cache writes (5-minute), per 1K tokens.")] = None,
    cache_write_1h: Annotated[str | None, typer.Option(help="1-hour cache writes, per 1K tokens.")] = None,
    reasoning: Annotated[str | None, typer.Option(help="Reasoning output, per 1K tokens.")] = None,
    audio_input: Annotated[str | None, typer.Option(help="Audio input, per 1K tokens.")] = None,
    audio_output: Annotated[str | None, typer.Option(help="Audio output, per 1K tokens.")] = None,
    price: PriceOption = None,
    clear: ClearOption = None,
    replace: Annotated[bool, typer.Option(help="Start from nothing instead of the current price.")] = False,
) -> None:
    """Set a model's selling price: a new version, for requests from now on (history kept)."""
    named = dict(
        zip(
            _DIMENSION_OPTIONS,
            (input, output_, cached_input, cache_write, cache_write_1h, reasoning, audio_input, audio_output),
            strict=True,
        )
    )
    updates = price_updates(named, price)

    async def work(rt: Runtime) -> None:
        current = await catalog_prices.current_price(rt.sessions, model_slug)
        base = None if replace or current is None else current.price
        wanted = build_price(base, unit, updates, clear)
        version = await catalog_prices.set_price(
            rt.sessions,
            model_slug,
            wanted,
            actor=actor(),
            reason=reason,
            expected_version_id=current.id if current is not None else None,
        )
        typer.echo(f"{model_slug} price version {version.id}: {summary(version.price)}")

    run(work)


@prices_app.command("show")
def show_price(
    model_slug: Annotated[str, typer.Argument(metavar="MODEL", help="The catalog model.")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many versions to list.")] = 20,
) -> None:
    """Show a model's current price by dimension, then its price history (newest first)."""

    async def work(rt: Runtime) -> None:
        history = await catalog_prices.price_history(rt.sessions, model_slug, limit=limit)
        current = next((v for v in history if v.current), None)
        if current is None:
            typer.echo(f"{model_slug} has no price")
        else:
            typer.echo(f"{model_slug}: version {current.id}, {current.price.unit}")
            output.table(["COMPONENT", "PRICE"], price_rows(current.price))
        typer.echo("")
        output.table(
            ["VERSION", "FROM", "UNTIL", "SOURCE", "ACTOR", "REASON", "PRICE"],
            [
                [
                    v.id,
                    v.effective_from,
                    v.effective_until or "current",
                    v.source,
                    v.actor,
                    v.reason,
                    summary(v.price),
                ]
                for v in history
            ],
            empty="(no versions)",
        )

    run(work)


@prices_app.command("costs-above")
def costs_above() -> None:
    """List routes whose cost price exceeds the selling price in some dimension."""

    async def work(rt: Runtime) -> None:
        rows = [
            [
                r.route_id,
                r.model_slug,
                r.provider_name,
                r.dimension
                + (f":{r.variant}" if r.variant else "")
                + (f">{r.above_input_tokens}" if r.above_input_tokens else ""),
                output.usd(r.cost_nanos),
                output.usd(r.price_nanos),
            ]
            for r in await catalog_prices.costs_above_price(rt.sessions)
        ]
        output.table(
            ["ROUTE", "MODEL", "PROVIDER", "DIMENSION", "COST", "PRICE"],
            rows,
            empty="(every known cost is below its price)",
        )

    run(work)


@prices_app.command("margins")
def margins(
    start: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First UTC day (default: 30 days ago)."),
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last UTC day (default: today).")
    ] = None,
    by: Annotated[str, typer.Option(help="model, provider or user.")] = "model",
) -> None:
    """Charged, upstream cost and margin over a range of days, from the daily rollups."""
    last: date = end.date() if end else datetime.now(UTC).date()
    first: date = start.date() if start else last - timedelta(days=29)
    if by not in ("model", "provider", "user"):
        raise CliError("--by is model, provider or user")

    async def work(rt: Runtime) -> None:
        rows = await margin_reports.margins(rt.sessions, start=first, end=last, by=by)  # type: ignore[arg-type]
        total = await margin_reports.margin_totals(rt.sessions, start=first, end=last)
        table = [
            [
                r.key if r.key != "" else "(none)",
                r.requests,
                output.usd(r.charged_nanos),
                output.usd(r.upstream_cost_nanos),
                output.usd(r.uncosted_nanos),
                output.usd(r.margin_nanos),
            ]
            for r in [*rows, total]
        ]
        typer.echo(f"{first} to {last}, by {by} (margin over the requests whose upstream cost is known)")
        output.table([by.upper(), "REQUESTS", "CHARGED", "UPSTREAM COST", "UNCOSTED", "MARGIN"], table)

    run(work)


__all__ = ["build_price", "price_updates", "prices_app", "summary"]
