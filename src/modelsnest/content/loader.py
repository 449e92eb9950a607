"""Finding and parsing content files: ``<section>/<slug>.md`` with YAML front matter, shipped
in this package and optionally overridden (or added to) by the operator's
``MODELSNEST_CONTENT_DIR`` with the same layout. Parsed once; every problem is a
``ContentError`` naming the file."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from modelsnest.content.types import HELP_CATEGORIES, INDEX_SLUG, SECTIONS, ContentError, Section

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REQUIRED: Mapping[Section, tuple[str, ...]] = {
    "pages": ("title", "description"),
    "blog": ("title", "description", "summary", "author", "date", "tags"),
    "tutorials": ("title", "description"),
    "help": ("title", "description", "category"),
    "sdks": ("title", "description"),
    "reference": ("title", "description"),
}
_DATE_FIELDS = ("date", "updated")


@dataclass(frozen=True)
class Source:
    """A content file as read: front matter (validated) and the Markdown body (unrendered)."""

    section: Section
    slug: str
    origin: str  # where it came from, for error messages
    meta: Mapping[str, Any]
    body: str

    @property
    def draft(self) -> bool:
        return bool(self.meta.get("draft", False))


def package_root() -> Traversable:
    return resources.files("modelsnest.content")


def _files(root: Traversable | Path, section: Section) -> Iterator[tuple[str, Traversable | Path]]:
    folder = root / section
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name.endswith(".md") and entry.is_file():
            yield entry.name[: -len(".md")], entry


def _as_date(value: Any, name: str, origin: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ContentError(f"{origin}: front matter '{name}' must be a date (YYYY-MM-DD), not {value!r}")


def _validate(section: Section, slug: str, meta: dict[str, Any], origin: str) -> dict[str, Any]:
    if not _SLUG.match(slug):
        raise ContentError(f"{origin}: file names must be lowercase words joined by '-' (got {slug!r})")
    required = ("title", "description") if slug == INDEX_SLUG else _REQUIRED[section]
    for name in required:
        value = meta.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ContentError(f"{origin}: front matter needs '{name}'")
    for name in ("title", "description", "summary", "author", "category"):
        if name in meta and not isinstance(meta[name], str):
            raise ContentError(f"{origin}: front matter '{name}' must be text")
    for name in _DATE_FIELDS:
        if name in meta:
            meta[name] = _as_date(meta[name], name, origin)
    if "tags" in meta:
        tags = meta["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            raise ContentError(f"{origin}: front matter 'tags' must be a list of words")
    if section == "help" and slug != INDEX_SLUG and meta["category"] not in HELP_CATEGORIES:
        known = ", ".join(HELP_CATEGORIES)
        raise ContentError(f"{origin}: help category {meta['category']!r} is not one of {known}")
    if "order" in meta and (isinstance(meta["order"], bool) or not isinstance(meta["order"], int)):
        raise ContentError(f"{origin}: front matter 'order' must be a whole number")
    if "draft" in meta and not isinstance(meta["draft"], bool):
        raise ContentError(f"{origin}: front matter 'draft' must be true or false")
    if "toc" in meta and not isinstance(meta["toc"], bool):
        raise ContentError(f"{origin}: front matter 'toc' must be true or false")
    return meta


def parse_source(section: Section, slug: str, text: str, origin: str) -> Source:
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        raise ContentError(f"{origin}: front matter is not valid YAML: {exc}") from exc
    meta = _validate(section, slug, dict(post.metadata), origin)
    body = post.content
    if not body.strip():
        raise ContentError(f"{origin}: the document has no body")
    return Source(section=section, slug=slug, origin=origin, meta=meta, body=body)


def load_sources(override_dir: Path | None = None) -> dict[tuple[Section, str], Source]:
    """Every document, shipped first, then the operator's files replacing or adding to them."""
    sources: dict[tuple[Section, str], Source] = {}
    roots: list[tuple[str, Traversable | Path]] = [("package", package_root())]
    if override_dir is not None:
        if not override_dir.is_dir():
            raise ContentError(f"MODELSNEST_CONTENT_DIR {override_dir} is not a directory")
        roots.append(("override", override_dir))
    for label, root in roots:
        for section in SECTIONS:
            for slug, entry in _files(root, section):
                origin = f"{section}/{slug}.md" if label == "package" else str(entry)
                try:
                    text = entry.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise ContentError(f"{origin}: cannot be read as UTF-8 text: {exc}") from exc
                sources[(section, slug)] = parse_source(section, slug, text, origin)
    return sources


def load_yaml(name: str, override_dir: Path | None = None) -> tuple[Any, str]:
    """A YAML data file (``landing.yaml``) and its origin; the operator's copy wins."""
    if override_dir is not None and (override_dir / name).is_file():
        path = override_dir / name
        text, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        text, origin = (package_root() / name).read_text(encoding="utf-8"), name
    try:
        return yaml.safe_load(text), origin
    except yaml.YAMLError as exc:
        raise ContentError(f"{origin}: not valid YAML: {exc}") from exc
