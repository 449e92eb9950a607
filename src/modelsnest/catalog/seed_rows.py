"""Bring the catalog tables in line with the seed spec, touching only rows that differ.

Ownership rules (what a re-seed may change on an existing model):

* descriptive fields (name, vendor, category, endpoint, description, token limits,
  capabilities, upstream ids), feature bullets and docs are seed-owned and refreshed;
* curation fields (``status``, ``is_featured``, ``sort_order``) are set when the model is
  created and then belong to the operator;
* a price is refreshed only while its current version's ``source`` is ``seed``: once an
  operator sets it (``source = 'operator'``) the seed never writes a version over it again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.catalog.docs import DocSpec, build_docs
from modelsnest.catalog.price_rows import current_prices, is_current, same_price, selling, write_version
from modelsnest.catalog.spec import FEATURE_CONTEXTS, CatalogSpec, ModelSpec
from modelsnest.db.models.catalog import (
    AiModel,
    AiModelCategory,
    AiModelDoc,
    AiModelDocExample,
    AiModelDocParameter,
    AiModelDocStep,
    AiModelFeature,
    AiModelPricing,
)

Counts = dict[str, int]


def _bump(counts: Counts, key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _set_changed(row: Any, values: dict[str, Any]) -> bool:
    """Assign only differing attributes; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


async def _all(session: AsyncSession, model: type[Any]) -> Sequence[Any]:
    return (await session.scalars(select(model))).all()


async def sync_categories(
    session: AsyncSession, spec: CatalogSpec, created: Counts, updated: Counts
) -> dict[str, int]:
    rows = {row.slug: row for row in await _all(session, AiModelCategory)}
    for category in spec.categories:
        values = {
            "name": category.name,
            "description": category.description,
            "sort_order": category.sort_order,
        }
        row = rows.get(category.slug)
        if row is None:
            row = AiModelCategory(slug=category.slug, **values)
            session.add(row)
            rows[category.slug] = row
            _bump(created, "categories")
        elif _set_changed(row, values):
            _bump(updated, "categories")
    await session.flush()
    return {slug: row.id for slug, row in rows.items()}


def _descriptive(spec: ModelSpec, category_id: int) -> dict[str, Any]:
    return {
        "name": spec.name,
        "vendor": spec.vendor,
        "category_id": category_id,
        "endpoint": spec.endpoint,
        "description": spec.description,
        "context_length": spec.context_length,
        "max_output_tokens": spec.max_output_tokens,
        "capabilities": dict(spec.capabilities),
        "upstream_ids": dict(spec.upstream_ids),
    }


async def sync_models(
    session: AsyncSession,
    spec: CatalogSpec,
    category_ids: dict[str, int],
    created: Counts,
    updated: Counts,
) -> dict[str, AiModel]:
    rows: dict[str, AiModel] = {row.slug: row for row in await _all(session, AiModel)}
    for model in spec.models:
        values = _descriptive(model, category_ids[model.category])
        row = rows.get(model.slug)
        if row is None:
            row = AiModel(
                slug=model.slug,
                status=model.status,
                is_featured=model.featured,
                sort_order=model.sort_order,
                **values,
            )
            session.add(row)
            rows[model.slug] = row
            _bump(created, "models")
        elif _set_changed(row, values):
            _bump(updated, "models")
    await session.flush()
    return rows


async def sync_prices(
    session: AsyncSession, spec: CatalogSpec, models: dict[str, AiModel], created: Counts, updated: Counts
) -> int:
    """Create or refresh seed-owned prices; returns how many operator prices were left alone.

    A seed price that changed becomes a new version (actor ``seed``), so the history shows it
    and requests in flight keep the version they were admitted with."""
    kept = 0
    current, _ = await current_prices(session)
    source_rows = await session.execute(
        select(AiModelPricing.model_id, AiModelPricing.source).where(is_current(), selling())
    )
    sources = {model_id: source for model_id, source in source_rows.all()}
    for model in spec.models:
        model_id = models[model.slug].id
        wanted = model.price.info()
        found = current.get(model_id)
        if found is not None and sources.get(model_id) == "operator":
            kept += 1
            continue
        if found is not None and same_price(found, wanted):
            continue
        await write_version(
            session,
            model_id=model_id,
            route_id=None,
            price=wanted,
            source="seed",
            actor="seed",
            reason="catalog seed" if found is None else "catalog seed update",
        )
        _bump(created if found is None else updated, "prices")
    return kept


async def sync_features(
    session: AsyncSession, spec: CatalogSpec, models: dict[str, AiModel], created: Counts, updated: Counts
) -> None:
    existing: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for row in await _all(session, AiModelFeature):
        existing[row.model_id].append((row.context, row.text, row.sort_order))
    stale: list[int] = []
    new_rows: list[AiModelFeature] = []
    for model in spec.models:
        model_id = models[model.slug].id
        wanted = [
            (context, text, index)
            for context in FEATURE_CONTEXTS
            for index, text in enumerate(model.features[context])
        ]
        have = sorted(existing.get(model_id, []), key=lambda f: (FEATURE_CONTEXTS.index(f[0]), f[2]))
        if have == wanted:
            continue
        if have:
            stale.append(model_id)
            _bump(updated, "features")
        else:
            _bump(created, "features")
        new_rows.extend(
            AiModelFeature(model_id=model_id, context=c, text=t, sort_order=i) for c, t, i in wanted
        )
    if stale:  # delete before adding: execute() autoflushes pending rows
        await session.execute(delete(AiModelFeature).where(AiModelFeature.model_id.in_(stale)))
    session.add_all(new_rows)


def _doc_values(doc: DocSpec) -> dict[str, Any]:
    return {
        "description": doc.description,
        "endpoint_method": doc.method,
        "endpoint_path": doc.path,
        "response_status": doc.status,
        "response_example": doc.response_example,
    }


def _wanted_children(doc: DocSpec) -> tuple[list[Any], list[Any], list[Any]]:
    steps = [(i + 1, title, body) for i, (title, body) in enumerate(doc.steps)]
    params = [(p.name, p.type, p.required, p.description, p.default, i) for i, p in enumerate(doc.parameters)]
    examples = [(e.language, e.title, e.code, i) for i, e in enumerate(doc.examples)]
    return steps, params, examples


def _grouped(rows: Iterable[Any], key: str, fields: tuple[str, ...]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[getattr(row, key)].append(tuple(getattr(row, f) for f in fields))
    for items in grouped.values():
        items.sort(key=lambda item: item[-1] if fields[-1] == "sort_order" else item[0])
    return grouped


_STEP_FIELDS = ("step_number", "title", "body")
_PARAM_FIELDS = ("name", "type", "required", "description", "default_value", "sort_order")
_EXAMPLE_FIELDS = ("language", "title", "code", "sort_order")


async def sync_docs(
    session: AsyncSession, spec: CatalogSpec, models: dict[str, AiModel], created: Counts, updated: Counts
) -> None:
    docs = {row.model_id: row for row in await _all(session, AiModelDoc)}
    steps = _grouped(await _all(session, AiModelDocStep), "doc_id", _STEP_FIELDS)
    params = _grouped(await _all(session, AiModelDocParameter), "doc_id", _PARAM_FIELDS)
    examples = _grouped(await _all(session, AiModelDocExample), "doc_id", _EXAMPLE_FIELDS)

    pending: list[tuple[AiModelDoc, DocSpec]] = []
    stale: list[int] = []
    for model in spec.models:
        model_id = models[model.slug].id
        doc = build_docs(model)
        row = docs.get(model_id)
        if row is None:
            row = AiModelDoc(model_id=model_id, **_doc_values(doc))
            session.add(row)
            pending.append((row, doc))
            _bump(created, "docs")
            continue
        fields_changed = _set_changed(row, _doc_values(doc))
        children_same = (steps.get(row.id, []), params.get(row.id, []), examples.get(row.id, [])) == (
            _wanted_children(doc)
        )
        if not children_same:
            stale.append(row.id)
            pending.append((row, doc))
        if fields_changed or not children_same:
            _bump(updated, "docs")
    if stale:
        for child in (AiModelDocStep, AiModelDocParameter, AiModelDocExample):
            await session.execute(delete(child).where(child.doc_id.in_(stale)))
    await session.flush()
    for row, doc in pending:
        wanted_steps, wanted_params, wanted_examples = _wanted_children(doc)
        session.add_all(
            AiModelDocStep(doc_id=row.id, step_number=n, title=t, body=b) for n, t, b in wanted_steps
        )
        session.add_all(
            AiModelDocParameter(
                doc_id=row.id, name=n, type=ty, required=r, description=d, default_value=dv, sort_order=i
            )
            for n, ty, r, d, dv, i in wanted_params
        )
        session.add_all(
            AiModelDocExample(doc_id=row.id, language=lang, title=t, code=c, sort_order=i)
            for lang, t, c, i in wanted_examples
        )


__all__ = ["sync_categories", "sync_docs", "sync_features", "sync_models", "sync_prices"]
