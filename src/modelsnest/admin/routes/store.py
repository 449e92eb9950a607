"""``/admin/store``: API Store products (list with sales, create, edit, disable/enable, test)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from modelsnest.admin import store as service
from modelsnest.admin.routes._base import AdminActor, done, failed, page, section
from modelsnest.errors import ModelsnestError, NotFound
from modelsnest.store.types import AUTH_LOCATIONS, BILLING_POLICIES, CATEGORIES, METHODS, ProductView
from modelsnest.web import context as web
from modelsnest.web.errors import PageError
from modelsnest.web.forms import Form

router = section()

PRODUCT_NOT_FOUND = PageError(404, "Product not found", "There is no store product with this slug.")
AUTH_LABELS = {"none": "No upstream auth", "header": "In a header", "query": "In a query parameter"}
POLICY_LABELS = {"2xx": "Only 2xx answers", "any_answer": "Any answer below 500"}


def _choices() -> dict[str, Any]:
    return {
        "categories": [(c, c.capitalize()) for c in CATEGORIES],
        "auth_locations": [(a, AUTH_LABELS.get(a, a)) for a in AUTH_LOCATIONS],
        "policies": [(p, POLICY_LABELS.get(p, p)) for p in BILLING_POLICIES],
        "methods": list(METHODS),
    }


def _form_values(form: Form | None) -> dict[str, Any]:
    if form is None:
        return {"form": {}, "errors": {}, "checked_methods": None}
    shown = form.shown()
    shown.pop("auth_secret", None)  # write-only, never sent back
    return {"form": shown, "errors": form.errors, "checked_methods": form.getlist("allowed_methods")}


async def _list_page(request: Request, form: Form | None = None, status: int = 200) -> Response:
    rows = await service.product_rows(web.services(request).store)
    values = {"rows": rows, "p": None, "call_text": "", "mb_text": "", **_choices(), **_form_values(form)}
    return await page(request, "store/index.html", values, status_code=status)


async def _product(request: Request, slug: str) -> ProductView:
    try:
        return await web.services(request).store.get_product(slug)
    except NotFound as exc:
        raise PRODUCT_NOT_FOUND from exc


async def _detail_page(
    request: Request, slug: str, form: Form | None = None, status: int = 200, test: Any = None
) -> Response:
    product = await _product(request, slug)
    sales = [s for s in await web.services(request).store.sales() if s.slug == slug]
    values = {
        "p": product,
        "sales": sales[0] if sales else None,
        "test": test,
        "call_text": service.price_text(product.price_per_call_nanos),
        "mb_text": service.price_text(product.price_per_mb_nanos),
        **_choices(),
        **_form_values(form),
    }
    return await page(request, "store/detail.html", values, status_code=status)


@router.get("/store")
async def store_page(request: Request, admin: AdminActor) -> Response:
    return await _list_page(request)


@router.post("/store")
async def create_product(request: Request, admin: AdminActor) -> Response:
    form = await Form.read(request)
    services = web.services(request)
    try:
        view = await service.create(
            services.store, services.sessions, admin, form.values, form.getlist("allowed_methods")
        )
    except ModelsnestError as exc:
        form.fail_with(
            exc,
            fields=service.FIELDS,
            rename={"price_per_call_nanos": "price_per_call", "price_per_mb_nanos": "price_per_mb"},
        )
        return await _list_page(request, form, 400)
    return done(request, f"/admin/store/{view.slug}", f"Product {view.slug} created and on sale.")


@router.get("/store/{slug}")
async def product_page(request: Request, slug: str, admin: AdminActor) -> Response:
    return await _detail_page(request, slug)


@router.post("/store/{slug}")
async def update_product(request: Request, slug: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    services = web.services(request)
    await _product(request, slug)
    try:
        await service.update(
            services.store, services.sessions, admin, slug, form.values, form.getlist("allowed_methods")
        )
    except ModelsnestError as exc:
        form.fail_with(
            exc,
            fields=service.FIELDS,
            rename={"price_per_call_nanos": "price_per_call", "price_per_mb_nanos": "price_per_mb"},
        )
        return await _detail_page(request, slug, form, 400)
    return done(request, f"/admin/store/{slug}", "Product saved.")


@router.post("/store/{slug}/active")
async def change_active(request: Request, slug: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    services = web.services(request)
    await _product(request, slug)
    active = form.checked("active")
    url = f"/admin/store/{slug}"
    try:
        await service.set_active(services.store, services.sessions, admin, slug, active)
    except ModelsnestError as exc:
        return failed(request, url, exc)
    if active:
        return done(request, url, f"{slug} is on sale again.")
    return done(request, url, f"{slug} is disabled: calls to it are refused and nothing is charged.")


@router.post("/store/{slug}/test")
async def test_product(request: Request, slug: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    services = web.services(request)
    await _product(request, slug)
    try:
        result = await service.test(
            services.store, services.sessions, admin, slug, form.get("path"), form.get("method", "GET")
        )
    except ModelsnestError as exc:
        form.fail_with(exc, fields=("path", "method"))
        return await _detail_page(request, slug, form, 400)
    return await _detail_page(request, slug, test=result)
