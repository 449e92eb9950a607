"""``modelsnest serve | migrate | seed``."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from modelsnest.cli import workers as balanced_workers
from modelsnest.cli.core import load_settings, run, shown_database
from modelsnest.db.migrate import current_revision, head_revision, publish_head_revision, upgrade_to_head
from modelsnest.observability.metrics import MULTIPROC_ENV
from modelsnest.runtime import Runtime
from modelsnest.settings import listen_url


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
    publish_head_revision()
    if workers > 1:
        _share_metrics_between_workers()
    # Links in e-mails sent outside a request (notification copies) need an absolute address.
    os.environ.setdefault("MODELSNEST_LISTEN_URL", listen_url(host, port))
    typer.echo(
        f"modelsnest serving on http://{host}:{port} ({workers} worker(s), database {database})", err=True
    )
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_config": None,  # the app configures logging; our access log carries request ids
        "access_log": False,
        "server_header": False,
    }
    if workers > 1 and balanced_workers.BALANCED:
        with contextlib.suppress(KeyboardInterrupt):
            balanced_workers.run(uvicorn.Config("modelsnest.app:create_app", **options))
    else:
        uvicorn.run("modelsnest.app:create_app", **options)


def _share_metrics_between_workers() -> None:
    """Workers write their metric samples to files in one fresh directory, which any worker's
    ``/metrics`` reads (prometheus-client's multiprocess mode); set before they start, as the
    library reads it at import. An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is kept, emptied."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        directory = Path(given)
        for stale in directory.glob("*.db"):  # a previous run's samples would be counted again
            stale.unlink()
        directory.mkdir(parents=True, exist_ok=True)
    else:
        directory = Path(tempfile.mkdtemp(prefix="modelsnest-metrics-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    os.environ[MULTIPROC_ENV] = str(directory)


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
