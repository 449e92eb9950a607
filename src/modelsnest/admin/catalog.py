"""The catalog as operators curate it: a model's status (active models are served; a
disabled one answers ``MODEL_UNAVAILABLE``), its name, description, category and display
order, and its selling price (a new version through ``catalog.prices.set_price``, applied to
requests admitted after it; earlier versions stay in the history)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from modelsnest.admin import audit
from modelsnest.admin.audit import Actor
from modelsnest.catalog.price_input import parse_price, price_entries
from modelsnest.catalog.prices import PriceVersion, current_price, price_history, set_price
from modelsnest.catalog.providers import RouteView, list_routes
from modelsnest.db.engine import SessionFactory
from modelsnest.db.models import PRICE_UNITS, AiModel, AiModelCategory, ModelRoute
from modelsnest.errors import InvalidRequest, NotFound

STATUSES: Final = ("active", "beta", "deprecated", "disabled")
MAX_NAME: Final = 200
MAX_DESCRIPTION: Final = 5000


@dataclass(frozen=True, slots=True)
class ModelRow:
    slug: str
    name: str
    vendor: str
    category: str
    endpoint: str
    status: str
    sort_order: int
    routes: int


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ModelDetail:
    slug: str
    name: str
    vendor: str
    endpoint: str
    description: str
    category_id: int
    status: str
    sort_order: int
    categories: list[Category]
    price: PriceVersion | None
    history: list[PriceVersion]
    routes: list[RouteView]

    @property
    def category_options(self) -> list[tuple[int, str]]:
        return [(c.id, c.name) for c in self.categories]

    @property
    def history_rows(self) -> list[tuple[PriceVersion, dict[str, str]]]:
        """Each version with its prices as ``key → USD`` (every dimension, tier, variant)."""
        return [(v, price_entries(v.price)) for v in self.history]

    @property
    def price_text(self) -> str:
        """The current price as the edit form shows it: one ``key = USD`` line each."""
        if self.price is None:
            return "input = 0\noutput = 0"
        return "\n".join(f"{key} = {value}" for key, value in price_entries(self.price.price).items())


async def list_models(sessions: SessionFactory, *, query: str = "", status: str = "") -> list[ModelRow]:
    routes = select(ModelRoute.model_id, func.count().label("n")).group_by(ModelRoute.model_id).subquery()
    statement = (
        select(AiModel, AiModelCategory.name, func.coalesce(routes.c.n, 0))
        .join(AiModelCategory, AiModelCategory.id == AiModel.category_id)
        .outerjoin(routes, routes.c.model_id == AiModel.id)
        .order_by(AiModelCategory.sort_order, AiModel.sort_order, AiModel.name)
    )
    text = query.strip().lower()
    if text:
        statement = statement.where(
            func.lower(AiModel.slug).contains(text) | func.lower(AiModel.name).contains(text)
        )
    if status in STATUSES:
        statement = statement.where(AiModel.status == status)
    async with sessions() as session:
        rows = (await session.execute(statement)).all()
    return [
        ModelRow(m.slug, m.name, m.vendor, category, m.endpoint, m.status, m.sort_order, int(n))
        for m, category, n in rows
    ]


async def _model(session: AsyncSession, slug: str, *, lock: bool = False) -> AiModel:
    statement = select(AiModel).where(AiModel.slug == slug)
    model = await session.scalar(statement.with_for_update() if lock else statement)
    if model is None:
        raise NotFound(f"no model {slug!r} in the catalog", param="model")
    return model


async def model_detail(sessions: SessionFactory, slug: str) -> ModelDetail:
    async with sessions() as session:
        model = await _model(session, slug)
        categories = [
            Category(c.id, c.name)
            for c in await session.scalars(select(AiModelCategory).order_by(AiModelCategory.sort_order))
        ]
    return ModelDetail(
        slug=model.slug,
        name=model.name,
        vendor=model.vendor,
        endpoint=model.endpoint,
        description=model.description or "",
        category_id=model.category_id,
        status=model.status,
        sort_order=model.sort_order,
        categories=categories,
        price=await current_price(sessions, slug),
        history=await price_history(sessions, slug, limit=50),
        routes=await list_routes(sessions, slug),
    )


async def set_status(sessions: SessionFactory, actor: Actor, slug: str, status: str) -> str:
    """``active`` / ``beta`` / ``deprecated`` are served; ``disabled`` is not."""
    if status not in STATUSES:
        raise InvalidRequest(f"choose one of: {', '.join(STATUSES)}", param="status")
    async with sessions.begin() as session:
        model = await _model(session, slug, lock=True)
        if model.status != status:
            audit.add(
                session,
                actor,
                "model.status",
                "model",
                slug,
                before={"status": model.status},
                after={"status": status},
            )
            model.status = status
    return status


async def update_details(
    sessions: SessionFactory,
    actor: Actor,
    slug: str,
    *,
    name: str,
    description: str,
    category_id: str,
    sort_order: str,
) -> None:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidRequest(f"the name must be 1 to {MAX_NAME} characters", param="name")
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidRequest(f"keep the description under {MAX_DESCRIPTION} characters", param="description")
    order_text = sort_order.strip() or "0"
    if not order_text.lstrip("-").isdigit() or abs(int(order_text)) > 1_000_000:
        raise InvalidRequest("the display order is a whole number, lower first", param="sort_order")
    if not category_id.isdigit():
        raise InvalidRequest("choose a category", param="category_id")
    async with sessions.begin() as session:
        model = await _model(session, slug, lock=True)
        if await session.get(AiModelCategory, int(category_id)) is None:
            raise InvalidRequest("choose a category", param="category_id")
        before = {
            "name": model.name,
            "description": model.description or "",
            "category_id": model.category_id,
            "sort_order": model.sort_order,
        }
        after = {
            "name": name,
            "description": description,
            "category_id": int(category_id),
            "sort_order": int(order_text),
        }
        if before == after:
            return
        model.name, model.description = name, description or None
        model.category_id, model.sort_order = int(category_id), int(order_text)
        changed = [k for k in after if before[k] != after[k]]
        audit.add(
            session,
            actor,
            "model.details",
            "model",
            slug,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )


def parse_price_text(unit: str, text: str, endpoint: str) -> dict[str, str]:
    """``key = USD`` lines (blank lines and ``#`` comments ignored) → entries for ``parse_price``."""
    if unit not in PRICE_UNITS:
        raise InvalidRequest(f"choose a unit: {', '.join(PRICE_UNITS)}", param="unit")
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidRequest(
                f"line {number}: write it as “key = amount”, e.g. input = 0.00015", param="price"
            )
        if key.strip() in entries:
            raise InvalidRequest(f"line {number}: {key.strip()!r} is given twice", param="price")
        entries[key.strip()] = value.strip().lstrip("$")
    return entries


async def change_price(
    sessions: SessionFactory,
    actor: Actor,
    slug: str,
    *,
    unit: str,
    text: str,
    reason: str,
    expected_version_id: str,
) -> PriceVersion:
    detail = await model_detail(sessions, slug)
    try:
        price = parse_price(unit, parse_price_text(unit, text, detail.endpoint), endpoint=detail.endpoint)
    except InvalidRequest as exc:
        raise InvalidRequest(exc.message, param="price") from exc
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidRequest("give a reason: it is kept with the price version", param="reason")
    version = await set_price(
        sessions,
        slug,
        price,
        actor=actor.label,
        reason=reason[:500],
        expected_version_id=int(expected_version_id) if expected_version_id.isdigit() else None,
    )
    await audit.record(
        sessions,
        actor,
        "model.price",
        "model",
        slug,
        before=None
        if detail.price is None
        else {
            "version_id": detail.price.id,
            "unit": detail.price.price.unit,
            **price_entries(detail.price.price),
        },
        after={
            "version_id": version.id,
            "unit": version.price.unit,
            **price_entries(version.price),
            "reason": reason[:500],
        },
    )
    return version
