"""The shared browser-test harness: Debian's Chromium driven by Playwright (never a
downloaded browser), screenshots in one artifacts folder, and an axe-core check.

    screenshot(page, "accounts-login-1280-light")   → test-artifacts/screenshots/accounts-login-1280-light.png
    assert_accessible(page)                          → fails on any serious or critical axe violation
    capture(page, url, "dashboard-keys")             → both widths (1280, 390) × both themes, checked and saved
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(os.environ.get("MODELSNEST_TEST_ARTIFACTS", REPO / "test-artifacts")) / "screenshots"
AXE = REPO / "src" / "modelsnest" / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)
THEMES = ("light", "dark")
BLOCKING_IMPACTS = ("serious", "critical")


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def assert_accessible(page: Page, *, context: str = "") -> None:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP (script-src 'self')
        # does not govern: a <script> tag would rightly be refused.
        page.evaluate(_axe_source())
    # A colour transition still running (a button's after an htmx swap or a theme switch)
    # shows axe a blend of two colours; the check is of what the page settles on.
    page.evaluate(_SETTLE_ANIMATIONS)
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    blocking = [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        summary = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "targets": [n["target"] for n in v["nodes"][:5]],
            }
            for v in blocking
        ]
        raise AssertionError(
            f"accessibility violations on {context or page.url}:\n{json.dumps(summary, indent=2)}"
        )


_SETTLE_ANIMATIONS = """async () => {
    const finite = document.getAnimations().filter(a => a.effect?.getTiming().iterations !== Infinity);
    await Promise.race([
        Promise.allSettled(finite.map(a => a.finished)),
        new Promise(resolve => setTimeout(resolve, 2000)),
    ]);
}"""


@cache
def _axe_source() -> str:
    return AXE.read_text() + "\n;true"


def set_theme(page: Page, theme: str) -> None:
    """As a visitor who chose ``theme`` with the toggle (remembered in localStorage)."""
    page.evaluate("theme => localStorage.setItem('modelsnest-theme', theme)", theme)


def apply_theme(page: Page, theme: str) -> None:
    """Switch the theme of the page as it is (for pages that cannot be reloaded, like a POST's answer)."""
    set_theme(page, theme)
    page.evaluate("theme => { document.documentElement.dataset.theme = theme; }", theme)


def capture(page: Page, url: str, name: str, *, before: Any = None) -> list[Path]:
    """``url`` at every width and theme: screenshot and accessibility check of each. ``before``
    (page → None) runs after each load, e.g. to open a dialog."""
    paths = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for theme in THEMES:
            page.goto(url)
            set_theme(page, theme)
            page.reload()
            page.wait_for_load_state("networkidle")
            assert page.evaluate("document.documentElement.dataset.theme") == theme
            if before is not None:
                before(page)
            assert_no_horizontal_overflow(page, f"{name} at {width}px")
            assert_accessible(page, context=f"{name} at {width}px, {theme}")
            paths.append(screenshot(page, f"{name}-{width}-{theme}"))
    return paths


def assert_no_horizontal_overflow(page: Page, context: str) -> None:
    """Nothing may be wider than the window (tables scroll inside their own frame)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{context}: the page is {overflow}px wider than the window"
