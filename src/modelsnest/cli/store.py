"""``modelsnest store …``: API Store products (any HTTP API, sold per call)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelsnest.cli import output
from modelsnest.cli.core import run
from modelsnest.crypto import SecretBox
from modelsnest.money import usd_to_nanos
from modelsnest.runtime import Runtime
from modelsnest.store import products
from modelsnest.store.tester import probe_product
from modelsnest.store.types import ProductSpec, ProductView

app = typer.Typer(help="Manage API Store products (any HTTP API, sold per call).", no_args_is_help=True)

Usd = Annotated[str | None, typer.Option(help="USD, e.g. 0.001 (exact; no floats).", show_default=False)]


def _nanos(value: str | None) -> int | None:
    return usd_to_nanos(value.strip().removeprefix("$")) if value is not None else None


def _split(values: list[str] | None) -> tuple[str, ...] | None:
    if not values:
        return None
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _auth(auth_header: str | None, auth_query: str | None) -> tuple[str | None, str | None]:
    if auth_header and auth_query:
        raise typer.BadParameter("give --auth-header or --auth-query, not both")
    if auth_header:
        return "header", auth_header
    if auth_query:
        return "query", auth_query
    return None, None


def _describe(view: ProductView) -> str:
    where = f"built-in {view.handler}" if view.handler else view.upstream_base_url
    price = output.usd(view.price_per_call_nanos) + "/call"
    if view.price_per_mb_nanos:
        price += f" + {output.usd(view.price_per_mb_nanos)}/MB"
    state = "active" if view.active else "disabled"
    return f"{view.slug} ({where}, {price}, {state})"


def _docs(path: Path | None) -> str | None:
    return path.read_text(encoding="utf-8") if path is not None else None


@app.command("list")
def list_products() -> None:
    """List products: slug, category, where they go, price, limits, state."""

    async def work(rt: Runtime) -> None:
        rows = [
            [
                p.slug,
                p.category,
                f"builtin:{p.handler}" if p.handler else p.upstream_base_url,
                ",".join(p.allowed_methods),
                output.usd(p.price_per_call_nanos),
                output.usd(p.price_per_mb_nanos) if p.price_per_mb_nanos else "-",
                p.billing_policy,
                p.rate_limit_per_minute,
                "yes" if p.allow_private_network else "no",
                "active" if p.active else "disabled",
            ]
            for p in await products.list_products(rt.sessions)
        ]
        output.table(
            [
                "SLUG",
                "CATEGORY",
                "UPSTREAM",
                "METHODS",
                "PER CALL",
                "PER MB",
                "BILLS",
                "RPM",
                "PRIVATE",
                "STATE",
            ],
            rows,
            empty="(no products: `modelsnest seed` adds the built-in ones, `modelsnest store add` others)",
        )

    run(work)


@app.command("add")
def add_product(
    slug: Annotated[str, typer.Argument(metavar="SLUG", help="URL name: /api/v1/store/SLUG/…")],
    name: Annotated[str, typer.Option(help="Display name.", show_default=False)],
    upstream: Annotated[str, typer.Option(help="Upstream base URL (its host is fixed).", show_default=False)],
    price: Annotated[str, typer.Option(help="USD per call, e.g. 0.001.", show_default=False)],
    price_per_mb: Usd = None,
    category: Annotated[
        str, typer.Option(help="scraping, search, data, documents, utilities …")
    ] = "utilities",
    description: Annotated[str, typer.Option(help="One line shown in the store.")] = "",
    method: Annotated[
        list[str] | None, typer.Option(help="Allowed method (repeat or comma-separate).")
    ] = None,
    path: Annotated[list[str] | None, typer.Option(help="Allowed path glob below the base (repeat).")] = None,
    auth_header: Annotated[str | None, typer.Option(help="Header carrying the upstream secret.")] = None,
    auth_query: Annotated[
        str | None, typer.Option(help="Query parameter carrying the upstream secret.")
    ] = None,
    secret: Annotated[
        str | None, typer.Option(help="Upstream secret (stored encrypted, never shown).")
    ] = None,
    billing: Annotated[str, typer.Option(help="2xx (charge 2xx answers) or any_answer.")] = "2xx",
    rpm: Annotated[int | None, typer.Option(help="Calls per minute per key.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds for the whole call.")] = 30.0,
    max_request_bytes: Annotated[int, typer.Option()] = 10 * 1024 * 1024,
    max_response_bytes: Annotated[int, typer.Option()] = 50 * 1024 * 1024,
    allow_private_network: Annotated[bool, typer.Option(help="Allow private/loopback upstreams.")] = False,
    docs: Annotated[Path | None, typer.Option(help="Markdown file with the product's docs.")] = None,
) -> None:
    """Add a product that forwards to an HTTP API."""
    location, auth_name = _auth(auth_header, auth_query)
    spec = ProductSpec(
        name=name,
        description=description,
        category=category,
        upstream_base_url=upstream,
        auth_location=location,
        auth_name=auth_name,
        auth_secret=secret,
        allowed_methods=_split(method) or ("GET",),
        path_patterns=_split(path) or ("*",),
        price_per_call_nanos=_nanos(price),
        price_per_mb_nanos=_nanos(price_per_mb),
        billing_policy=billing,
        rate_limit_per_minute=rpm,
        timeout_seconds=timeout,
        max_request_bytes=max_request_bytes,
        max_response_bytes=max_response_bytes,
        allow_private_network=allow_private_network,
        docs_markdown=_docs(docs),
    )

    async def work(rt: Runtime) -> None:
        view = await products.create_product(
            rt.sessions, SecretBox(rt.settings.resolved_secret_key()), slug, spec
        )
        typer.echo(f"added store product {_describe(view)}")

    run(work)


@app.command("update")
def update_product(
    slug: Annotated[str, typer.Argument(metavar="SLUG")],
    name: Annotated[str | None, typer.Option(show_default=False)] = None,
    upstream: Annotated[str | None, typer.Option(help="New upstream base URL.", show_default=False)] = None,
    price: Usd = None,
    price_per_mb: Usd = None,
    category: Annotated[str | None, typer.Option(show_default=False)] = None,
    description: Annotated[str | None, typer.Option(show_default=False)] = None,
    method: Annotated[list[str] | None, typer.Option(help="Replace the allowed methods.")] = None,
    path: Annotated[list[str] | None, typer.Option(help="Replace the allowed path globs.")] = None,
    auth_header: Annotated[str | None, typer.Option()] = None,
    auth_query: Annotated[str | None, typer.Option()] = None,
    secret: Annotated[str | None, typer.Option(help="New upstream secret.")] = None,
    clear_secret: Annotated[bool, typer.Option(help="Remove the secret (and the upstream auth).")] = False,
    billing: Annotated[str | None, typer.Option(show_default=False)] = None,
    rpm: Annotated[int | None, typer.Option(show_default=False)] = None,
    no_rpm: Annotated[bool, typer.Option(help="Remove the per-key rate limit.")] = False,
    timeout: Annotated[float | None, typer.Option(show_default=False)] = None,
    max_request_bytes: Annotated[int | None, typer.Option(show_default=False)] = None,
    max_response_bytes: Annotated[int | None, typer.Option(show_default=False)] = None,
    allow_private_network: Annotated[bool | None, typer.Option(show_default=False)] = None,
    enable: Annotated[bool, typer.Option(help="Enable a disabled product.")] = False,
    docs: Annotated[Path | None, typer.Option(help="Markdown file with the product's docs.")] = None,
) -> None:
    """Change a product (options not given are kept)."""
    location, auth_name = _auth(auth_header, auth_query)
    spec = ProductSpec(
        name=name,
        description=description,
        category=category,
        upstream_base_url=upstream,
        auth_location="none" if clear_secret else location,
        auth_name=auth_name,
        auth_secret=secret,
        clear_auth_secret=clear_secret,
        allowed_methods=_split(method),
        path_patterns=_split(path),
        price_per_call_nanos=_nanos(price),
        price_per_mb_nanos=_nanos(price_per_mb),
        billing_policy=billing,
        rate_limit_per_minute=rpm,
        clear_rate_limit=no_rpm,
        timeout_seconds=timeout,
        max_request_bytes=max_request_bytes,
        max_response_bytes=max_response_bytes,
        allow_private_network=allow_private_network,
        active=True if enable else None,
        docs_markdown=_docs(docs),
    )

    async def work(rt: Runtime) -> None:
        view = await products.update_product(
            rt.sessions, SecretBox(rt.settings.resolved_secret_key()), slug, spec
        )
        typer.echo(f"updated store product {_describe(view)}")

    run(work)


@app.command("disable")
def disable_product(slug: Annotated[str, typer.Argument(metavar="SLUG")]) -> None:
    """Stop selling a product (calls are refused, nothing charged; `update --enable` undoes it)."""

    async def work(rt: Runtime) -> None:
        view = await products.set_active(rt.sessions, slug, False)
        typer.echo(f"disabled store product {_describe(view)}")

    run(work)


@app.command("test")
def test(
    slug: Annotated[str, typer.Argument(metavar="SLUG")],
    path: Annotated[str, typer.Option(help="Path below the base to call.")] = "",
    method: Annotated[str, typer.Option()] = "GET",
) -> None:
    """Call the product once, unbilled, with the operator's credentials; exit 1 unless it answers 2xx."""

    async def work(rt: Runtime) -> bool:
        result = await probe_product(
            rt.sessions, SecretBox(rt.settings.resolved_secret_key()), slug, path=path, method=method
        )
        status = result.status if result.status is not None else "no answer"
        typer.echo(f"{slug}: {status} in {result.latency_ms} ms, {result.bytes} bytes ({result.detail})")
        return result.ok

    if not run(work):
        raise typer.Exit(1)
