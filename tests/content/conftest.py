from __future__ import annotations

import json
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from modelsnest.content import ContentLibrary
from modelsnest.content.types import Page, Post
from modelsnest.settings import Settings

BASE_URL = "https://api.example.com"

# An operator who set every fact the pages can use.
OPERATOR = {
    "company_name": "Acme AI",
    "company_legal_name": "Acme AI Ltd",
    "company_address": "1 Example Street, Springfield",
    "company_jurisdiction": "England and Wales",
    "company_registration": "Company no. 01234567",
    "contact_email": "hello@acme.test",
    "support_email": "support@acme.test",
    "security_email": "security@acme.test",
    "privacy_email": "privacy@acme.test",
}

_HREF = re.compile(r'href="([^"]*)"')


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(var_dir=tmp_path / "var", **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def library() -> ContentLibrary:
    return ContentLibrary.from_settings(Settings())


@pytest.fixture(scope="session")
def operator_library() -> ContentLibrary:
    return ContentLibrary.from_settings(Settings(**OPERATOR))  # type: ignore[arg-type]


def catalog_models() -> dict[str, dict[str, Any]]:
    """The seed catalog, by slug (the model pages the site serves come from it)."""
    folder = resources.files("modelsnest.catalog") / "data"
    models: dict[str, dict[str, Any]] = {}
    for entry in folder.iterdir():
        if entry.name.startswith("models_") and entry.name.endswith(".json"):
            models.update({m["slug"]: m for m in json.loads(entry.read_text())})
    return models


def catalog_prices() -> set[str]:
    prices = set()
    for model in catalog_models().values():
        for side in ("input", "output"):
            value = model.get("pricing", {}).get(side)
            if value and Decimal(value):
                prices.add(value)
    return prices


def hrefs(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in _HREF.findall(html)]


def all_documents(library: ContentLibrary, *, include_drafts: bool = True) -> list[Page | Post]:
    return library.documents(base_url=BASE_URL, include_drafts=include_drafts)


def origin(doc: Page | Post) -> str:
    section = doc.section if isinstance(doc, Page) else "blog"
    return f"{section}/{doc.slug}.md"
