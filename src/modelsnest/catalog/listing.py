"""The public catalog, as the site lists it: categories in order, every callable model with
its price, card features and the providers that serve it (names and kinds only: never a key
or a base URL), filtered by category and a search. Built from the hot path's snapshot
(``CatalogCache``) plus the categories and features, which the snapshot does not carry.

``ModelDirectory`` is one per process; its ``get()`` rebuilds only when the snapshot changed
or the extras are older than ``ttl_seconds``.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select

from modelsnest.catalog.cache import CatalogCache
from modelsnest.catalog.types import CatalogSnapshot, ModelInfo
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.catalog import AiModel, AiModelCategory, AiModelFeature
from modelsnest.providers.registry import default_registry

MAX_QUERY_LENGTH: Final = 100


@dataclass(frozen=True, slots=True)
class Category:
    slug: str
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class ServingProvider:
    name: str
    kind: str
    label: str  # the kind as the public reads it: 'OpenAI', 'Built-in simulator'


@dataclass(frozen=True, slots=True)
class ListedModel:
    info: ModelInfo
    category_name: str
    featured: bool
    features: tuple[str, ...]
    providers: tuple[ServingProvider, ...]

    @property
    def slug(self) -> str:
        return self.info.slug

    def matches(self, query: str) -> bool:
        """Every word of ``query`` appears in the slug, name, vendor, category or description."""
        haystack = " ".join(
            (
                self.info.slug,
                self.info.name,
                self.info.vendor,
                self.category_name,
                self.info.description or "",
            )
        ).lower()
        return all(word in haystack for word in query.lower().split())


@dataclass(frozen=True)
class Directory:
    categories: tuple[Category, ...]
    models: tuple[ListedModel, ...]  # callable models, by category order then catalog order

    def get(self, slug: str) -> ListedModel | None:
        for model in self.models:
            if model.slug == slug:
                return model
        return None

    def category(self, slug: str) -> Category | None:
        return next((c for c in self.categories if c.slug == slug), None)

    def search(self, *, category: str | None = None, query: str = "") -> list[ListedModel]:
        words = query.strip()[:MAX_QUERY_LENGTH]
        return [
            m
            for m in self.models
            if (category is None or m.info.category == category) and (not words or m.matches(words))
        ]

    def grouped(
        self, models: Iterable[ListedModel] | None = None
    ) -> list[tuple[Category, list[ListedModel]]]:
        """``models`` (default: all) under their categories, empty categories left out."""
        by_category: dict[str, list[ListedModel]] = defaultdict(list)
        for model in self.models if models is None else models:
            by_category[model.info.category].append(model)
        return [(c, by_category[c.slug]) for c in self.categories if by_category.get(c.slug)]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for model in self.models:
            out[model.info.category] += 1
        return dict(out)


def kind_label(kind: str) -> str:
    declared = default_registry.get(kind)
    return declared.label.split(" (")[0] if declared is not None else kind


def serving_providers(model: ModelInfo) -> tuple[ServingProvider, ...]:
    """The enabled providers routing ``model``, in the order they are tried, each once."""
    seen: dict[str, ServingProvider] = {}
    for route in model.routes:
        provider = route.provider
        if provider.name not in seen:
            seen[provider.name] = ServingProvider(provider.name, provider.kind, kind_label(provider.kind))
    return tuple(seen.values())


@dataclass(frozen=True)
class _Extras:
    categories: tuple[Category, ...]
    featured: frozenset[str]
    features: dict[str, tuple[str, ...]]


async def _load_extras(sessions: SessionFactory) -> _Extras:
    async with sessions() as session:
        categories = (
            await session.scalars(
                select(AiModelCategory).order_by(AiModelCategory.sort_order, AiModelCategory.id)
            )
        ).all()
        featured = (await session.scalars(select(AiModel.slug).where(AiModel.is_featured.is_(True)))).all()
        rows = (
            await session.execute(
                select(AiModel.slug, AiModelFeature.text)
                .join(AiModel, AiModel.id == AiModelFeature.model_id)
                .where(AiModelFeature.context == "card")
                .order_by(AiModelFeature.sort_order, AiModelFeature.id)
            )
        ).all()
    features: dict[str, list[str]] = defaultdict(list)
    for slug, text in rows:
        features[slug].append(text)
    return _Extras(
        categories=tuple(Category(c.slug, c.name, c.description or "") for c in categories),
        featured=frozenset(featured),
        features={slug: tuple(texts) for slug, texts in features.items()},
    )


def build_directory(snapshot: CatalogSnapshot, extras: _Extras) -> Directory:
    order = {c.slug: i for i, c in enumerate(extras.categories)}
    names = {c.slug: c.name for c in extras.categories}
    models = [
        ListedModel(
            info=info,
            category_name=names.get(info.category, info.category),
            featured=info.slug in extras.featured,
            features=extras.features.get(info.slug, ()),
            providers=serving_providers(info),
        )
        for info in snapshot.models.values()  # already in catalog order
        if info.available
    ]
    models.sort(key=lambda m: order.get(m.info.category, len(order)))
    return Directory(categories=extras.categories, models=tuple(models))


class ModelDirectory:
    def __init__(
        self,
        sessions: SessionFactory,
        catalog: CatalogCache,
        ttl_seconds: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._ttl = ttl_seconds
        self._clock = clock
        self._extras: _Extras | None = None
        self._extras_expire = 0.0
        self._built: tuple[CatalogSnapshot, _Extras, Directory] | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Directory:
        snapshot = await self._catalog.get()
        async with self._lock:
            if self._extras is None or self._clock() >= self._extras_expire:
                self._extras = await _load_extras(self._sessions)
                self._extras_expire = self._clock() + self._ttl
            built = self._built
            if built is None or built[0] is not snapshot or built[1] is not self._extras:
                built = (snapshot, self._extras, build_directory(snapshot, self._extras))
                self._built = built
            return built[2]


__all__ = [
    "Category",
    "Directory",
    "ListedModel",
    "ModelDirectory",
    "ServingProvider",
    "build_directory",
    "kind_label",
    "serving_providers",
]
