"""A server worker loads only what serving needs: the tools for migrating (Alembic), for judging
new passwords (zxcvbn's dictionaries), httpx's command-line client (click, rich, pygments), the
blog feed's writer (feedgen, lxml) and the 2FA QR code (segno) stay out of it until something
asks for them. Together they were about 30 MB of every worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from modelsnest.db.migrate import HEAD_ENV, head_revision

HEAVY = ("alembic", "zxcvbn", "click", "rich", "pygments", "feedgen", "lxml", "segno")

# What a worker does before its first request: import the app, check the schema against the
# head its supervisor published (``serve`` sets HEAD_ENV), answer /readyz.
WORKER = """
import asyncio, json, sys
from sqlalchemy.ext.asyncio import create_async_engine
import modelsnest.app
from modelsnest.db.migrate import current_revision, head_revision
async def main():
    engine = create_async_engine(sys.argv[1])
    try:
        return await current_revision(engine), head_revision()
    finally:
        await engine.dispose()
revision = asyncio.run(main())
print(json.dumps({"revision": revision, "loaded": sorted(m for m in %r if m in sys.modules)}))
"""


def test_a_worker_imports_no_migration_password_or_cli_tools(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    env = {HEAD_ENV: "0042"}
    result = subprocess.run(
        [sys.executable, "-c", WORKER % (HEAVY,), url],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []
    assert report["revision"] == [None, "0042"]  # an empty database; the published head


def test_without_a_supervisor_the_head_comes_from_the_migration_scripts() -> None:
    versions = Path(__file__).resolve().parents[1] / "src/modelsnest/db/migrations/versions"
    numbers = sorted(path.name.split("_")[1] for path in versions.glob("*.py"))
    assert head_revision() == numbers[-1]
