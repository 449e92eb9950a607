"""``modelsnest providers …`` and ``modelsnest routes …``: upstreams and which models they serve."""

from __future__ import annotations

from typing import Annotated

import typer

from modelsnest.catalog import prices as catalog_prices
from modelsnest.catalog import providers as catalog
from modelsnest.cli import output
from modelsnest.cli.core import CliError, actor, run
from modelsnest.cli.prices import build_price, price_updates, summary
from modelsnest.crypto import SecretBox
from modelsnest.db.base import utcnow
from modelsnest.providers.registry import default_registry
from modelsnest.runtime import Runtime

providers_app = typer.Typer(help="Manage upstream providers.", no_args_is_help=True)
routes_app = typer.Typer(help="Route catalog models to providers.", no_args_is_help=True)


def _complete_kind(incomplete: str) -> list[str]:
    return [name for name in default_registry.kinds() if name.startswith(incomplete)]


# The kinds registered when the CLI loads (plugins included); the service validates against the
# registry as it is at call time, so a kind registered later is accepted too.
_KIND_HELP = " | ".join(kind.name for kind in default_registry) + " (see `modelsnest providers kinds`)"


@providers_app.command("kinds")
def list_kinds() -> None:
    """List the provider kinds this installation knows (built-in and plugins)."""
    rows = [
        [
            kind.name,
            kind.label,
            kind.default_base_url or ("none needed" if not kind.requires_base_url else "give --base-url"),
            "required" if kind.requires_api_key else "not required",
            kind.env_var,
            ", ".join(sorted(kind.capabilities)),
        ]
        for kind in catalog.provider_kinds()
    ]
    output.table(["KIND", "LABEL", "DEFAULT BASE URL", "API KEY", "ENV VAR", "CAPABILITIES"], rows)


@providers_app.command("add")
def add_provider(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A unique name, e.g. novita-eu.")],
    kind: Annotated[str, typer.Option(help=_KIND_HELP, show_default=False, autocompletion=_complete_kind)],
    base_url: Annotated[str | None, typer.Option(help="Upstream base URL (default: the kind's own).")] = None,
    api_key: Annotated[
        str | None, typer.Option(help="Upstream API key (stored encrypted, never shown).")
    ] = None,
) -> None:
    """Add an upstream provider."""

    async def work(rt: Runtime) -> None:
        box = SecretBox(rt.settings.resolved_secret_key())
        view = await catalog.add_provider(
            rt.sessions, box, name=name, kind=kind, base_url=base_url, api_key=api_key
        )
        key = "API key stored encrypted" if view.has_api_key else "no API key"
        typer.echo(f"added provider {view.name} (kind {view.kind}, {view.base_url or 'default URL'}, {key})")

    run(work)


@providers_app.command("list")
def list_providers() -> None:
    """List providers with their health (circuit breaker, last error, last success)."""

    async def work(rt: Runtime) -> None:
        now = utcnow()
        rows = []
        for p in await catalog.list_providers(rt.sessions):
            if not p.enabled:
                health = "disabled"
            elif p.circuit_open_until is not None and p.circuit_open_until > now:
                health = f"circuit open until {output.when(p.circuit_open_until)}"
            elif p.consecutive_failures:
                health = f"{p.consecutive_failures} failure(s) in a row"
            else:
                health = "healthy"
            error = f"{output.when(p.last_error_at)}: {p.last_error}" if p.last_error else None
            rows.append(
                [
                    p.name,
                    p.kind,
                    p.base_url,
                    "yes" if p.has_api_key else "no",
                    health,
                    p.last_success_at,
                    error,
                ]
            )
        headers = ["NAME", "KIND", "BASE URL", "KEY", "HEALTH", "LAST SUCCESS", "LAST ERROR"]
        output.table(
            headers, rows, empty="(no providers: run `modelsnest seed` or `modelsnest providers add`)"
        )

    run(work)


@routes_app.command("add")
def add_route(
    model_slug: Annotated[
        str, typer.Argument(metavar="MODEL_SLUG", help="The catalog model, e.g. deepseek.")
    ],
    provider_name: Annotated[str, typer.Argument(metavar="PROVIDER_NAME", help="A provider's name.")],
    upstream_model: Annotated[
        str, typer.Argument(metavar="UPSTREAM_MODEL", help="The model id the provider knows it by.")
    ],
    priority: Annotated[int, typer.Option(help="Lower is tried first.")] = 100,
    weight: Annotated[int, typer.Option(min=0, help="Share of traffic among routes of equal priority.")] = 1,
    cost_input: Annotated[
        str | None, typer.Option(help="What the provider charges: input, USD per price unit.")
    ] = None,
    cost_output: Annotated[
        str | None, typer.Option(help="What the provider charges: output, per 1K tokens.")
    ] = None,
    cost: Annotated[
        list[str] | None, typer.Option("--cost", help="Any other cost component as KEY=USD (repeatable).")
    ] = None,
    cost_unit: Annotated[
        str | None, typer.Option(help="Unit of the cost price (default: the model's).")
    ] = None,
) -> None:
    """Route a catalog model to a provider, optionally with its cost price (default: unknown)."""
    updates = price_updates({"input": cost_input, "output": cost_output}, cost)

    async def work(rt: Runtime) -> None:
        view = await catalog.add_route(
            rt.sessions,
            model_slug=model_slug,
            provider_name=provider_name,
            upstream_model=upstream_model,
            priority=priority,
            weight=weight,
        )
        typer.echo(
            f"added route {view.model_slug} -> {view.provider_name} ({view.upstream_model}), "
            f"priority {view.priority}, weight {view.weight}, id {view.id}"
        )
        if updates:
            await _set_cost(rt, view.id, view.model_slug, cost_unit, updates, "set when the route was added")

    run(work)


async def _set_cost(
    rt: Runtime, route_id: int, model_slug: str, unit: str | None, updates: dict[str, str], reason: str
) -> None:
    selling = await catalog_prices.current_price(rt.sessions, model_slug)
    chosen = unit or (selling.price.unit if selling is not None else None)
    version = await catalog_prices.set_route_cost(
        rt.sessions, route_id, build_price(None, chosen, updates, None), actor=actor(), reason=reason
    )
    assert version is not None
    typer.echo(f"route {route_id} cost price version {version.id}: {summary(version.price)}")


@routes_app.command("cost")
def route_cost(
    route_id: Annotated[int, typer.Argument(metavar="ROUTE_ID", help="The route (see `routes list`).")],
    reason: Annotated[str, typer.Option(help="Why the cost changes (kept in the history).")],
    input: Annotated[str | None, typer.Option("--input", help="Input, USD per price unit.")] = None,
    output_: Annotated[str | None, typer.Option("--output", help="Output, USD per 1K tokens.")] = None,
    price: Annotated[
        list[str] | None, typer.Option("--price", help="Any other component as KEY=USD (repeatable).")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Price unit (default: the model's).")] = None,
    unknown: Annotated[bool, typer.Option("--unknown", help="Forget the cost price (unknown).")] = False,
) -> None:
    """Set what the provider charges on a route (a new version; usage rows cost from it)."""
    updates = price_updates({"input": input, "output": output_}, price)
    if unknown == bool(updates):
        raise CliError("give the cost (--input …) or --unknown, not both or neither")

    async def work(rt: Runtime) -> None:
        if unknown:
            await catalog_prices.set_route_cost(rt.sessions, route_id, None, actor=actor(), reason=reason)
            typer.echo(f"route {route_id} cost price is now unknown")
            return
        view = next((r for r in await catalog.list_routes(rt.sessions) if r.id == route_id), None)
        if view is None:
            raise CliError(f"no route with id {route_id}")
        await _set_cost(rt, route_id, view.model_slug, unit, updates, reason)

    run(work)


@routes_app.command("list")
def list_routes(
    model_slug: Annotated[
        str | None, typer.Argument(metavar="[MODEL_SLUG]", help="Only this model's routes.")
    ] = None,
) -> None:
    """List routes, in the order the router tries them."""

    async def work(rt: Runtime) -> None:
        rows = [
            [
                r.model_slug,
                r.provider_name,
                r.upstream_model,
                r.priority,
                r.weight,
                "yes" if r.enabled else "no",
                r.id,
                summary(r.cost),
            ]
            for r in await catalog.list_routes(rt.sessions, model_slug)
        ]
        output.table(
            ["MODEL", "PROVIDER", "UPSTREAM MODEL", "PRIORITY", "WEIGHT", "ENABLED", "ID", "COST"],
            rows,
            empty="(no routes)",
        )

    run(work)
