"""The seed catalog as typed, validated data, read from the JSON files in ``catalog/data``.

``data/categories.json`` lists the categories; every other ``data/*.json`` file holds a list of
models. Prices are exact decimal USD strings per price unit (``"0.00015"``), never numbers.
Loading checks everything a seed needs to be consistent (unique slugs, known categories,
endpoint/unit pairs, 2–4 feature bullets per context, token limits for chat models …) and
raises ``SpecError`` naming the model and the field.

A price object has ``unit``, ``input`` and ``output`` and, where the vendor prices them apart,
``cached_input``, ``cache_write`` (5-minute), ``cache_write_1h``, ``reasoning``,
``audio_input``, ``audio_output``, ``tiers`` (context tiers) and ``images`` (per-image
prices by ``size/quality``); see ``catalog.price_input`` for what each means.

``upstream_ids`` maps a provider kind to the model's id there. Besides the kinds we have
adapters for (``novita``, ``openai``, ``anthropic``, ``elevenlabs``) it records the id on the
vendor's own API (``deepseek``, ``google``, ``mistral``, ``xai`` …) for operators and future
adapters; seeding routes the kinds registered in ``providers.registry`` whose key is set, so
a plugin kind named ``mistral`` gets those models' routes with no catalog change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from modelsnest.catalog.price_input import parse_price
from modelsnest.catalog.types import (
    CATEGORY_ENDPOINTS,
    MODEL_STATUSES,
    UNITS_BY_ENDPOINT,
    PriceComponent,
    PriceInfo,
)
from modelsnest.errors import InvalidRequest
from modelsnest.money import InvalidAmount, usd_to_nanos

FEATURE_CONTEXTS = ("card", "detail", "pricing")
_TOKEN_ENDPOINTS = ("chat",)
_OPTION_KEYS_REQUIRED = {
    "embeddings": ("vector_dimensions",),
    "images": ("sizes",),
    "speech": ("voices", "max_characters"),
    "video": ("durations", "aspect_ratios", "image_input"),
}


class SpecError(ValueError):
    """The seed data is inconsistent (a bug in ``catalog/data``, caught by the tests)."""


@dataclass(frozen=True, slots=True)
class CategorySpec:
    slug: str
    name: str
    description: str
    sort_order: int


@dataclass(frozen=True, slots=True)
class PriceSpec:
    unit: str
    input_nanos: int
    output_nanos: int
    components: tuple[PriceComponent, ...] = ()

    def info(self) -> PriceInfo:
        return PriceInfo(self.unit, self.input_nanos, self.output_nanos, self.components)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    slug: str
    name: str
    vendor: str
    category: str
    endpoint: str
    description: str
    status: str
    featured: bool
    context_length: int | None
    max_output_tokens: int | None
    capabilities: Mapping[str, bool]
    upstream_ids: Mapping[str, str]
    price: PriceSpec
    features: Mapping[str, tuple[str, ...]]
    options: Mapping[str, Any]
    sort_order: int


@dataclass(frozen=True, slots=True)
class CatalogSpec:
    categories: tuple[CategorySpec, ...]
    models: tuple[ModelSpec, ...]

    def model(self, slug: str) -> ModelSpec:
        for spec in self.models:
            if spec.slug == slug:
                return spec
        raise KeyError(slug)


def _str(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where}: {key!r} must be a non-empty string")
    return value.strip()


def _opt_int(raw: Mapping[str, Any], key: str, where: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(f"{where}: {key!r} must be a positive integer")
    return value


def _nanos(value: Any, where: str) -> int:
    if not isinstance(value, str):
        raise SpecError(f"{where}: prices are decimal strings, got {value!r}")
    try:
        return usd_to_nanos(value)
    except InvalidAmount as exc:
        raise SpecError(f"{where}: {exc}") from exc


_DIMENSION_KEYS = (
    "cached_input",
    "cache_write",
    "cache_write_1h",
    "reasoning",
    "audio_input",
    "audio_output",
)
_PRICE_KEYS = {"unit", "input", "output", "tiers", "images", *_DIMENSION_KEYS}


def _price_entries(raw: dict[str, Any], where: str) -> dict[str, str]:
    """The seed's price object as ``price_input.parse_price`` entries: ``tiers`` is a list of
    ``{"above_input_tokens": N, <dimension>: USD, …}``, ``images`` maps ``size/quality`` to USD."""
    if unknown := set(raw) - _PRICE_KEYS:
        raise SpecError(f"{where}: unknown price keys {sorted(unknown)}")
    entries: dict[str, str] = {}
    for key in ("input", "output", *_DIMENSION_KEYS):
        if key in raw:
            entries[key] = raw[key]
    for index, tier in enumerate(raw.get("tiers") or ()):
        above = tier.get("above_input_tokens") if isinstance(tier, dict) else None
        if isinstance(above, bool) or not isinstance(above, int) or above <= 0:
            raise SpecError(f"{where}: price.tiers[{index}] needs a positive above_input_tokens")
        for key, value in tier.items():
            if key != "above_input_tokens":
                entries[f"{key}>{above}"] = value
    images = raw.get("images") or {}
    if not isinstance(images, dict):
        raise SpecError(f"{where}: price.images maps size/quality to a price")
    for variant, value in images.items():
        entries[f"image:{variant}"] = value
    for key, value in entries.items():
        if not isinstance(value, str):
            raise SpecError(f"{where}.price.{key}: prices are decimal strings, got {value!r}")
    return entries


def _price(raw: Any, endpoint: str, where: str) -> PriceSpec:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: 'price' must be an object")
    unit = raw.get("unit")
    if unit not in UNITS_BY_ENDPOINT[endpoint]:
        raise SpecError(f"{where}: price unit {unit!r} cannot bill the {endpoint} endpoint")
    _nanos(raw.get("input"), f"{where}.price.input")
    _nanos(raw.get("output", "0"), f"{where}.price.output")
    entries = _price_entries(raw, where)
    try:
        price = parse_price(str(unit), entries, endpoint=endpoint)
    except InvalidRequest as exc:
        raise SpecError(f"{where}: {exc.message}") from exc
    if price.input_nanos <= 0:
        raise SpecError(f"{where}: the input price must be positive")
    return PriceSpec(price.unit, price.input_nanos, price.output_nanos, price.components)


def _features(raw: Any, where: str) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(raw, dict) or set(raw) != set(FEATURE_CONTEXTS):
        raise SpecError(f"{where}: 'features' needs exactly the contexts {FEATURE_CONTEXTS}")
    features: dict[str, tuple[str, ...]] = {}
    for context in FEATURE_CONTEXTS:
        bullets = raw[context]
        if not isinstance(bullets, list) or not 2 <= len(bullets) <= 4:
            raise SpecError(f"{where}: features.{context} needs 2 to 4 bullets")
        if any(not isinstance(b, str) or not b.strip() or len(b) > 300 for b in bullets):
            raise SpecError(f"{where}: features.{context} bullets are 1–300 character strings")
        features[context] = tuple(b.strip() for b in bullets)
    return MappingProxyType(features)


def _model(raw: Any, categories: set[str], sort_order: int) -> ModelSpec:
    if not isinstance(raw, dict):
        raise SpecError(f"model #{sort_order}: expected an object")
    slug = _str(raw, "slug", f"model #{sort_order}")
    where = f"model {slug!r}"
    category = _str(raw, "category", where)
    endpoint = _str(raw, "endpoint", where)
    if category not in categories:
        raise SpecError(f"{where}: unknown category {category!r}")
    if endpoint not in CATEGORY_ENDPOINTS[category]:
        raise SpecError(f"{where}: endpoint {endpoint!r} does not belong in category {category!r}")
    status = raw.get("status", "active")
    if status not in MODEL_STATUSES:
        raise SpecError(f"{where}: unknown status {status!r}")
    context_length = _opt_int(raw, "context_length", where)
    max_output = _opt_int(raw, "max_output_tokens", where)
    if endpoint in _TOKEN_ENDPOINTS and (context_length is None or max_output is None):
        raise SpecError(f"{where}: chat models need context_length and max_output_tokens")
    capabilities = raw.get("capabilities", {})
    if not isinstance(capabilities, dict) or any(not isinstance(v, bool) for v in capabilities.values()):
        raise SpecError(f"{where}: capabilities are a map of booleans")
    upstream_ids = raw.get("upstream_ids", {})
    if not isinstance(upstream_ids, dict) or any(
        not isinstance(v, str) or not v for v in upstream_ids.values()
    ):
        raise SpecError(f"{where}: upstream_ids map a provider kind to a non-empty model id")
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise SpecError(f"{where}: options must be an object")
    missing = [key for key in _OPTION_KEYS_REQUIRED.get(endpoint, ()) if key not in options]
    if missing:
        raise SpecError(f"{where}: the {endpoint} docs need options {missing}")
    featured = raw.get("featured", False)
    if not isinstance(featured, bool):
        raise SpecError(f"{where}: 'featured' must be true or false")
    return ModelSpec(
        slug=slug,
        name=_str(raw, "name", where),
        vendor=_str(raw, "vendor", where),
        category=category,
        endpoint=endpoint,
        description=_str(raw, "description", where),
        status=str(status),
        featured=featured,
        context_length=context_length,
        max_output_tokens=max_output,
        capabilities=MappingProxyType(dict(capabilities)),
        upstream_ids=MappingProxyType(dict(upstream_ids)),
        price=_price(raw.get("price"), endpoint, where),
        features=_features(raw.get("features"), where),
        options=MappingProxyType(dict(options)),
        sort_order=sort_order,
    )


def parse_catalog(categories_raw: Any, model_lists: list[Any]) -> CatalogSpec:
    """Validate raw JSON values (categories list, then one list of models per file)."""
    if not isinstance(categories_raw, list):
        raise SpecError("categories.json must hold a list")
    categories = []
    for index, raw in enumerate(categories_raw):
        where = f"category #{index}"
        categories.append(
            CategorySpec(
                slug=_str(raw, "slug", where),
                name=_str(raw, "name", where),
                description=_str(raw, "description", where),
                sort_order=index * 10,
            )
        )
    slugs = {c.slug for c in categories}
    if unknown := slugs - set(CATEGORY_ENDPOINTS):
        raise SpecError(f"categories without an endpoint rule: {sorted(unknown)}")
    models: list[ModelSpec] = []
    for model_list in model_lists:
        if not isinstance(model_list, list):
            raise SpecError("every model file must hold a list of models")
        models.extend(_model(raw, slugs, len(models) + 1) for raw in model_list)
    seen: set[str] = set()
    for spec in models:
        if spec.slug in seen:
            raise SpecError(f"model {spec.slug!r} is listed twice")
        seen.add(spec.slug)
    return CatalogSpec(categories=tuple(categories), models=tuple(models))


@cache
def load_catalog_spec() -> CatalogSpec:
    """The packaged seed catalog (read and validated once per process)."""
    folder = resources.files("modelsnest.catalog").joinpath("data")
    categories = json.loads(folder.joinpath("categories.json").read_text(encoding="utf-8"))
    names = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name.endswith(".json") and entry.name != "categories.json"
    )
    model_lists = [json.loads(folder.joinpath(name).read_text(encoding="utf-8")) for name in names]
    return parse_catalog(categories, model_lists)


__all__ = [
    "FEATURE_CONTEXTS",
    "CatalogSpec",
    "CategorySpec",
    "ModelSpec",
    "PriceSpec",
    "SpecError",
    "load_catalog_spec",
    "parse_catalog",
]
