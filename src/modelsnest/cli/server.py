"""``modelsnest serve | migrate | seed``."""

from __future__ import annotations

from typing import Annotated

import typer

from modelsnest.cli.core import load_settings, run, shown_database
from modelsnest.db.migrate import current_revision, head_revision, upgrade_to_head
from modelsnest.runtime import Runtime


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every one).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Serve the API and web app (uvicorn). Refuses to start on an unmigrated database."""
    import uvicorn

    async def ready(rt: Runtime) -> str:
        return shown_database(rt.settings)

    database = run(ready)  # connects and checks the schema: one clear line if not at head
    typer.echo(
        f"modelsnest serving on http://{host}:{port} ({workers} worker(s), database {database})", err=True
    )
    uvicorn.run(
        "modelsnest.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # the app configures logging; our access log carries request ids
        access_log=False,
        server_header=False,
    )


def migrate() -> None:
    """Bring the database schema to the latest migration (safe to run again)."""

    async def revision(rt: Runtime) -> str | None:
        return await current_revision(rt.engine)

    before = run(revision, check_schema=False)
    head = head_revision()
    settings = load_settings()
    if before == head:
        typer.echo(f"database {shown_database(settings)} is already at {head}")
        return
    upgrade_to_head(settings.async_database_url)
    after = run(revision, check_schema=False)
    typer.echo(f"database {shown_database(settings)} migrated from {before or 'empty'} to {after}")


def seed() -> None:
    """Load the model catalog and prices; wire the simulator and providers from the environment
    (idempotent: run it after every upgrade)."""
    from modelsnest.catalog.seed import SeedReport, seed_from_settings

    async def work(rt: Runtime) -> SeedReport:
        return await seed_from_settings(rt.sessions, rt.settings)

    typer.echo(f"catalog seeded: {run(work).summary()}")
