"""``modelsnest providers …`` and ``modelsnest routes …``: upstreams and which models they serve."""

from __future__ import annotations

from typing import Annotated

import typer

from modelsnest.catalog import providers as catalog
from modelsnest.cli import output
from modelsnest.cli.core import run
from modelsnest.crypto import SecretBox
from modelsnest.db.base import utcnow
from modelsnest.runtime import Runtime

providers_app = typer.Typer(help="Manage upstream providers.", no_args_is_help=True)
routes_app = typer.Typer(help="Route catalog models to providers.", no_args_is_help=True)


@providers_app.command("add")
def add_provider(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A unique name, e.g. novita-eu.")],
    kind: Annotated[
        str, typer.Option(help="openai | anthropic | simulator | novita | elevenlabs", show_default=False)
    ],
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
) -> None:
    """Route a catalog model to a provider."""

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
            f"priority {view.priority}, weight {view.weight}"
        )

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
            ]
            for r in await catalog.list_routes(rt.sessions, model_slug)
        ]
        output.table(
            ["MODEL", "PROVIDER", "UPSTREAM MODEL", "PRIORITY", "WEIGHT", "ENABLED"],
            rows,
            empty="(no routes)",
        )

    run(work)
