"""The admin browser tests use the shared browser harness (a live server over a seeded
SQLite database, Debian's Chromium) of ``tests/web/browser``."""

from __future__ import annotations

from tests.web.browser.conftest import (  # noqa: F401  (fixtures)
    chromium,
    chromium_path,
    context,
    live_site,
    page,
    playwright_instance,
)
