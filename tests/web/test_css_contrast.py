"""The stylesheet's colour tokens keep solid buttons readable in both themes, at rest and
under the pointer: WCAG's 4.5:1 between a button's text and its background (axe sees a page
at rest, so a hover colour is checked here, from the tokens themselves)."""

from __future__ import annotations

import re

import pytest

from modelsnest.web.static import STATIC_DIR

CSS = (STATIC_DIR / "css" / "app.css").read_text()
MINIMUM = 4.5


def _block(selector: str) -> dict[str, str]:
    """The custom properties declared in the first rule whose selector is ``selector``."""
    found = re.search(re.escape(selector) + r"\s*\{(.*?)\n\}", CSS, re.S)
    assert found, selector
    body = re.sub(r"/\*.*?\*/", "", found.group(1), flags=re.S)
    return {name: value.strip() for name, value in re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", body)}


def tokens(theme: str) -> dict[str, str]:
    light = _block(":root")
    return light if theme == "light" else {**light, **_block('html[data-theme="dark"]')}


def colour(value: str, theme: dict[str, str]) -> str:
    while value.startswith("var("):
        value = theme[value[4:-1].strip()]
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", value), f"not an opaque colour: {value}"
    return value


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula_is_wcag_s() -> None:
    assert round(contrast("#ffffff", "#000000"), 1) == 21.0
    assert round(contrast("#6366f1", "#ffffff"), 2) == 4.47  # the old dark hover: it failed


# (text, background) of each solid button, at rest and hovered.
BUTTONS = {
    "primary": ("var(--on-accent)", "var(--accent)"),
    "primary:hover": ("var(--on-accent)", "var(--accent-hover)"),
    "danger": ("#ffffff", "var(--danger-solid)"),
    "danger:hover": ("#ffffff", "var(--danger-solid-hover)"),
}


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("button", list(BUTTONS))
def test_solid_buttons_keep_their_text_readable(theme: str, button: str) -> None:
    values = tokens(theme)
    text, background = (colour(value, values) for value in BUTTONS[button])
    ratio = contrast(text, background)
    assert ratio >= MINIMUM, f"{button} in {theme}: {text} on {background} is {ratio:.2f}:1"


def test_the_buttons_take_their_colours_from_these_tokens() -> None:
    assert "--btn-fg: var(--on-accent)" in CSS and "--btn-hover: var(--accent-hover)" in CSS
    assert (
        "--btn-hover: var(--danger-solid-hover)" in CSS and ".btn:hover { background: var(--btn-hover)" in CSS
    )
