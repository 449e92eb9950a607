"""Seed the catalog, the built-in simulator and the providers configured in the environment.

``seed_catalog`` is idempotent and safe to run at every start: a second run writes nothing.
It upserts the packaged models by slug (see ``seed_rows`` for which fields the seed owns),
never touches a price an operator edited, and wires providers:

* the ``simulator`` provider always exists; every seeded model has a route to it
  (``upstream_model`` = slug, priority 1000) that is enabled exactly while the simulator is on;
  switching the simulator off disables every route to it (nothing is deleted);
* for each registered provider kind enabled from the environment (``ProviderKind.env_var``:
  ``NOVITA_API_KEY``, ``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``ELEVENLABS_API_KEY``, or a
  plugin's) whose API key is given, a provider of that name and kind is created at the kind's
  default base URL (or its key updated), and every model with an upstream id for that kind
  gets a route to it at priority 10, ahead of the simulator. Existing routes keep their
  operator-set priority, weight and enabled flag.

Keys are stored encrypted with ``SecretBox`` and never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.catalog import seed_rows
from modelsnest.catalog.spec import CatalogSpec, load_catalog_spec
from modelsnest.crypto import SecretBox
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models.catalog import AiModel
from modelsnest.db.models.providers import ModelRoute, Provider
from modelsnest.providers.registry import ProviderKind, default_registry
from modelsnest.settings import Settings

log = logging.getLogger(__name__)

SIMULATOR_NAME = "simulator"
SIMULATOR_PRIORITY = 1000
ENV_PROVIDER_PRIORITY = 10


@dataclass
class SeedReport:
    """What one seeding run changed, per kind of row (``models``, ``prices``, ``docs``,
    ``features``, ``categories``, ``providers``, ``routes``)."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    operator_prices_kept: int = 0

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values())

    def summary(self) -> str:
        def fmt(counts: dict[str, int]) -> str:
            return ", ".join(f"{n} {k}" for k, n in sorted(counts.items()) if n) or "nothing"

        return (
            f"created {fmt(self.created)}; updated {fmt(self.updated)}; "
            f"kept {self.operator_prices_kept} operator-set prices"
        )


def _bump(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


async def _simulator_provider(session: AsyncSession, report: SeedReport) -> Provider:
    rows = (
        await session.scalars(select(Provider).where(Provider.kind == "simulator").order_by(Provider.id))
    ).all()
    for row in rows:
        if row.name == SIMULATOR_NAME:
            return row
    if rows:
        return rows[0]
    provider = Provider(name=SIMULATOR_NAME, kind="simulator", base_url=None, enabled=True)
    session.add(provider)
    await session.flush()
    _bump(report.created, "providers")
    return provider


async def _routes_of(session: AsyncSession, provider_id: int) -> list[ModelRoute]:
    return list(
        (await session.scalars(select(ModelRoute).where(ModelRoute.provider_id == provider_id))).all()
    )


async def _sync_simulator(
    session: AsyncSession, models: dict[str, AiModel], enabled: bool, report: SeedReport
) -> None:
    provider = await _simulator_provider(session, report)
    routes = await _routes_of(session, provider.id)
    seeded = {(route.model_id, route.upstream_model): route for route in routes}
    for slug, model in models.items():
        if (model.id, slug) not in seeded:
            session.add(
                ModelRoute(
                    model_id=model.id,
                    provider_id=provider.id,
                    upstream_model=slug,
                    priority=SIMULATOR_PRIORITY,
                    weight=1,
                    enabled=enabled,
                )
            )
            _bump(report.created, "routes")
    seeded_keys = {(model.id, slug) for slug, model in models.items()}
    for route in routes:
        # Switching off disables every simulator route; switching on re-enables the seeded ones.
        target = (
            enabled if (route.model_id, route.upstream_model) in seeded_keys else route.enabled and enabled
        )
        if route.enabled != target:
            route.enabled = target
            _bump(report.updated, "routes")


def _same_key(box: SecretBox, stored: str | None, key: str) -> bool:
    if stored is None:
        return False
    try:
        return box.decrypt(stored) == key
    except ValueError:  # encrypted under another secret key: replace it
        return False


async def _sync_env_provider(
    session: AsyncSession,
    spec: CatalogSpec,
    models: dict[str, AiModel],
    box: SecretBox,
    provider_kind: ProviderKind,
    api_key: str,
    report: SeedReport,
) -> None:
    kind = provider_kind.name
    provider = await session.scalar(select(Provider).where(Provider.name == kind))
    if provider is None:
        provider = Provider(
            name=kind,
            kind=kind,
            base_url=provider_kind.default_base_url,
            api_key_encrypted=box.encrypt(api_key),
            enabled=True,
        )
        session.add(provider)
        await session.flush()
        _bump(report.created, "providers")
        log.info("created provider %s from the environment", kind)
    elif provider.kind != kind:
        log.warning("provider %r exists with kind %r; not routing %s models to it", kind, provider.kind, kind)
        return
    else:
        changed = False
        if not _same_key(box, provider.api_key_encrypted, api_key):
            provider.api_key_encrypted = box.encrypt(api_key)
            changed = True
            log.info("updated the API key of provider %s from the environment", kind)
        if not provider.base_url and provider_kind.default_base_url:
            provider.base_url = provider_kind.default_base_url
            changed = True
        if changed:
            _bump(report.updated, "providers")
    existing = {(r.model_id, r.upstream_model) for r in await _routes_of(session, provider.id)}
    for model_spec in spec.models:
        upstream = model_spec.upstream_ids.get(kind)
        model = models[model_spec.slug]
        if upstream is None or (model.id, upstream) in existing:
            continue
        session.add(
            ModelRoute(
                model_id=model.id,
                provider_id=provider.id,
                upstream_model=upstream,
                priority=ENV_PROVIDER_PRIORITY,
                weight=1,
                enabled=True,
            )
        )
        _bump(report.created, "routes")


async def _seed_once(
    sessions: SessionFactory,
    spec: CatalogSpec,
    box: SecretBox,
    simulator_enabled: bool,
    keys: Mapping[ProviderKind, str],
) -> SeedReport:
    report = SeedReport()
    async with sessions() as session, session.begin():
        category_ids = await seed_rows.sync_categories(session, spec, report.created, report.updated)
        all_models = await seed_rows.sync_models(session, spec, category_ids, report.created, report.updated)
        models = {m.slug: all_models[m.slug] for m in spec.models}
        report.operator_prices_kept = await seed_rows.sync_prices(
            session, spec, models, report.created, report.updated
        )
        await seed_rows.sync_features(session, spec, models, report.created, report.updated)
        await seed_rows.sync_docs(session, spec, models, report.created, report.updated)
        await _sync_simulator(session, models, simulator_enabled, report)
        for kind, api_key in keys.items():
            await _sync_env_provider(session, spec, models, box, kind, api_key, report)
        from modelsnest.store.seed import sync_store_products  # the API Store's built-in products

        await sync_store_products(session, report.created)
    return report


async def seed_catalog(
    sessions: SessionFactory,
    *,
    secret_box: SecretBox,
    simulator_enabled: bool,
    provider_keys: Mapping[str, str | None],
    spec: CatalogSpec | None = None,
) -> SeedReport:
    """Upsert the packaged catalog and wire the simulator and environment providers.

    ``provider_keys`` maps the name of a registered provider kind enabled from the
    environment (one with an ``env_var``: ``novita``, ``openai``, ``anthropic``,
    ``elevenlabs`` …) to its API key or ``None``. Runs in one transaction; when another
    replica seeds at the same moment and wins a unique constraint, the run is retried once.
    """
    unknown = sorted(set(provider_keys) - set(default_registry.env_vars()))
    if unknown:
        raise ValueError(
            f"unknown provider kinds in provider_keys: {unknown} "
            f"(kinds enabled from the environment: {sorted(default_registry.env_vars())})"
        )
    keys = {
        kind: key.strip()
        for name, key in provider_keys.items()
        if key and key.strip() and (kind := default_registry.get(name)) is not None
    }
    catalog = spec or load_catalog_spec()
    try:
        report = await _seed_once(sessions, catalog, secret_box, simulator_enabled, keys)
    except IntegrityError:
        log.info("catalog seeding raced with another process; retrying once")
        report = await _seed_once(sessions, catalog, secret_box, simulator_enabled, keys)
    if report.changed:
        log.info("catalog seeded: %s", report.summary())
    return report


async def seed_from_settings(sessions: SessionFactory, settings: Settings) -> SeedReport:
    """``seed_catalog`` with the secret key, simulator switch and provider keys of ``settings``."""
    return await seed_catalog(
        sessions,
        secret_box=SecretBox(settings.resolved_secret_key()),
        simulator_enabled=settings.simulator_enabled,
        provider_keys=settings.provider_keys,
    )


__all__ = [
    "ENV_PROVIDER_PRIORITY",
    "SIMULATOR_NAME",
    "SIMULATOR_PRIORITY",
    "SeedReport",
    "seed_catalog",
    "seed_from_settings",
]
