"""``/admin/catalog`` (also ``/admin/models``): the models, their status, details and prices."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from modelsnest.admin import catalog as service
from modelsnest.admin.routes._base import AdminActor, done, failed, page, section
from modelsnest.db.models import PRICE_UNITS
from modelsnest.errors import ModelsnestError, NotFound
from modelsnest.web import context as web
from modelsnest.web.errors import PageError, redirect
from modelsnest.web.forms import Form

router = section()

MODEL_NOT_FOUND = PageError(404, "Model not found", "There is no such model in the catalog.")
STATUS_LABELS = {"active": "Active", "beta": "Beta", "deprecated": "Deprecated", "disabled": "Disabled"}


def _refresh(request: Request) -> None:
    """This replica serves the change now; the others within the catalog cache TTL."""
    web.services(request).gateway.catalog.invalidate()


@router.get("/models")
async def models_alias(request: Request, admin: AdminActor) -> Response:
    return redirect(request, "/admin/catalog")


@router.get("/catalog")
async def catalog_page(request: Request, admin: AdminActor) -> Response:
    q = request.query_params.get("q", "").strip()[:200]
    status = request.query_params.get("status", "")
    models = await service.list_models(web.services(request).sessions, query=q, status=status)
    return await page(
        request,
        "catalog/index.html",
        {
            "models": models,
            "q": q,
            "status": status if status in STATUS_LABELS else "",
            "status_options": [("", "Any status"), *STATUS_LABELS.items()],
        },
    )


async def _detail(request: Request, slug: str) -> service.ModelDetail:
    try:
        return await service.model_detail(web.services(request).sessions, slug)
    except NotFound as exc:
        raise MODEL_NOT_FOUND from exc


async def _model_page(request: Request, slug: str, form: Form | None = None, status: int = 200) -> Response:
    detail = await _detail(request, slug)
    values: dict[str, Any] = {
        "m": detail,
        "units": [(u, u.replace("_", " ")) for u in PRICE_UNITS],
        "status_options": list(STATUS_LABELS.items()),
        "form": form.shown() if form else {},
        "errors": form.errors if form else {},
    }
    return await page(request, "catalog/detail.html", values, status_code=status)


@router.get("/catalog/{slug:path}/edit")
async def model_page(request: Request, slug: str, admin: AdminActor) -> Response:
    return await _model_page(request, slug)


@router.post("/catalog/{slug:path}/status")
async def change_status(request: Request, slug: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    url = f"/admin/catalog/{slug}/edit"
    try:
        status = await service.set_status(web.services(request).sessions, admin, slug, form.get("status"))
    except NotFound as exc:
        raise MODEL_NOT_FOUND from exc
    except ModelsnestError as exc:
        return failed(request, url, exc)
    _refresh(request)
    if status == "disabled":
        return done(request, url, f"{slug} is disabled: requests for it get MODEL_UNAVAILABLE.")
    return done(request, url, f"{slug} is {status} and served.")


@router.post("/catalog/{slug:path}/details")
async def change_details(request: Request, slug: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    try:
        await service.update_details(
            web.services(request).sessions,
            admin,
            slug,
            name=form.get("name"),
            description=form.get("description"),
            category_id=form.get("category_id"),
            sort_order=form.get("sort_order"),
        )
    except NotFound as exc:
        raise MODEL_NOT_FOUND from exc
    except ModelsnestError as exc:
        form.fail_with(exc, fields=("name", "description", "category_id", "sort_order"))
        return await _model_page(request, slug, form, 400)
    _refresh(request)
    return done(request, f"/admin/catalog/{slug}/edit", "Details saved.")


@router.post("/catalog/{slug:path}/price")
async def change_price(request: Request, slug: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    try:
        version = await service.change_price(
            web.services(request).sessions,
            admin,
            slug,
            unit=form.get("unit"),
            text=form.get("price"),
            reason=form.get("reason"),
            expected_version_id=form.get("expected_version_id"),
        )
    except NotFound as exc:
        raise MODEL_NOT_FOUND from exc
    except ModelsnestError as exc:
        form.fail_with(exc, fields=("price", "reason", "unit"))
        return await _model_page(request, slug, form, 400)
    _refresh(request)
    return done(
        request, f"/admin/catalog/{slug}/edit", f"Price version {version.id} is live for new requests."
    )
