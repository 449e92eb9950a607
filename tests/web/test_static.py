"""Static files: vendored libraries are listed with their licences and present; nothing is
loaded from another host; URLs are versioned and cached for a year."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from modelsnest.web.static import STATIC_DIR, StaticAssets
from tests.web.helpers import Browser

TEMPLATES = Path(STATIC_DIR).parent / "templates"
VENDOR = STATIC_DIR / "vendor"


def test_every_vendored_file_is_listed_present_and_unchanged() -> None:
    listing = json.loads((VENDOR / "VENDORED.json").read_text())
    listed = set()
    for package in listing["packages"]:
        assert package["name"] and package["version"] and package["license"]
        assert any(name.endswith("LICENSE") for name in package["files"]), (
            f"{package['name']} ships no licence"
        )
        for name, digest in package["sha256"].items():
            path = VENDOR / name
            assert path.is_file(), f"{name} is listed but missing"
            assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, (
                f"{name} differs from the vendored copy"
            )
            listed.add(name)
    present = {
        str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file() and p.name != "VENDORED.json"
    }
    assert present == listed, "every file under vendor/ is listed in VENDORED.json"


def test_no_template_or_static_file_loads_from_another_host() -> None:
    external = re.compile(r"""(src|href)\s*=\s*["'](https?:)?//""", re.IGNORECASE)
    css_external = re.compile(r"""(@import|url\()\s*["']?(https?:)?//""", re.IGNORECASE)
    for path in TEMPLATES.rglob("*.html"):
        assert not external.search(path.read_text()), f"{path} loads from another host"
    for path in (STATIC_DIR / "css").rglob("*.css"):
        assert not css_external.search(path.read_text()), f"{path} loads from another host"


def test_urls_carry_the_files_digest() -> None:
    assets = StaticAssets()
    css = (STATIC_DIR / "css" / "app.css").read_bytes()
    assert assets.url("css/app.css") == f"/static/css/app.css?v={hashlib.sha256(css).hexdigest()[:12]}"


async def test_versioned_urls_are_immutable_and_others_revalidate(browser: Browser) -> None:
    page = await browser.get("/login")
    url = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', page.text)
    assert url is not None
    cached = await browser.get(url.group(1))
    assert (
        cached.status_code == 200 and cached.headers["cache-control"] == "public, max-age=31536000, immutable"
    )
    stale = await browser.get("/static/css/app.css?v=000000000000")
    assert stale.headers["cache-control"] == "no-cache"
    assert (await browser.get("/static/../settings.py")).status_code == 404
    assert (await browser.get("/static/nope.js")).status_code == 404


async def test_every_asset_a_page_references_exists(browser: Browser) -> None:
    page = await browser.get("/dev/components")
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert (await browser.get(url)).status_code == 200, url
