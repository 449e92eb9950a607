"""``/dashboard``: the API Store, the catalog and the store's products as the signed-in
developer shops them. Kind (models / APIs), category filter and search by query string (works
without JavaScript; htmx swaps only the results while typing), each card with its price,
status, docs and a way to try it.

    GET  /dashboard                       the store (?kind=&category=&q=)
    GET  /dashboard/store/{slug}          a product: docs, endpoint, price, curl, try it
    POST /dashboard/store/{slug}/try      one call of the product as the signed-in user (CSRF)

A "try it" call goes through ``store.trial.try_product`` (``Store.call``, the API's own code
path) with ``Caller.signed_in(..., origin="store")``: billed from the user's credits like any
store call. An unknown or disabled product is the 404 page."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.auth.caller import Caller
from modelsnest.catalog.listing import MAX_QUERY_LENGTH
from modelsnest.errors import ModelsnestError, NotFound
from modelsnest.store import ProductView
from modelsnest.store.trial import try_product
from modelsnest.web import context as web
from modelsnest.web import store_pages
from modelsnest.web.deps import RequireUser
from modelsnest.web.errors import PageError
from modelsnest.web.forms import Form
from modelsnest.web.render import render

router = APIRouter(include_in_schema=False)

PAGE = "pages/dashboard/store/index.html"
RESULTS = "pages/dashboard/store/_results.html"
RESULTS_ID = "store-results"
PRODUCT_PAGE = "pages/dashboard/store/product.html"
TRY_RESULT = "pages/dashboard/store/_try_result.html"
TRY_RESULT_ID = "try-result"
PRODUCT_NOT_FOUND = PageError(
    404,
    "API not found",
    "There is no such API in the store, or it is not available right now.",
)


@router.get("/dashboard")
async def dashboard_home(request: Request, user: RequireUser) -> Response:
    services = web.services(request)
    directory = await services.directory.get()
    products = await services.store.list_products(active_only=True)
    query = request.query_params.get("q", "").strip()[:MAX_QUERY_LENGTH]
    kind = request.query_params.get("kind", "")
    kind = kind if kind in store_pages.KINDS else ""
    wanted = request.query_params.get("category") or None
    category = directory.category(wanted) if wanted else None
    product_categories = store_pages.product_categories(products)
    product_category = wanted if wanted in product_categories else None
    filtering = category is not None or product_category is not None
    models = (
        directory.search(category=category.slug if category else None, query=query)
        if kind != "apis" and (category is not None or not filtering)
        else []
    )
    listed = (
        store_pages.search_products(products, category=product_category, query=query)
        if kind != "models" and (product_category is not None or not filtering)
        else []
    )
    values = {
        "directory": directory,
        "query": query,
        "kind": kind,
        "category": category,
        "product_category": product_category,
        "category_name": category.name if category else product_categories.get(product_category or "", ""),
        "results": models,
        "products": listed,
        "product_total": len(products),
        "counts": directory.counts(),
        "product_categories": product_categories,
        "product_counts": store_pages.product_counts(products),
        "filter_counts": store_pages.filter_counts(
            directory,
            products,
            kind=kind,
            category=category.slug if category else product_category,
            query=query,
        ),
    }
    partial = request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == RESULTS_ID
    values["swap_counts"] = partial  # the chips' numbers follow the results (out of band)
    return await render(request, RESULTS if partial else PAGE, values)


async def _active_product(request: Request, slug: str) -> ProductView:
    try:
        product = await web.services(request).store.get_product(slug[:100])
    except NotFound as exc:
        raise PRODUCT_NOT_FOUND from exc
    if not product.active:
        raise PRODUCT_NOT_FOUND
    return product


def _product_values(request: Request, product: ProductView) -> dict[str, Any]:
    return {
        "product": product.public_fields(),
        "category_name": store_pages.category_name(product.category),
        "docs_html": store_pages.docs_html(product.docs_markdown),
        "curl": store_pages.curl_example(web.site_url(request), product),
        "try_form": store_pages.default_try(product),
        "try_result": None,
    }


@router.get("/dashboard/store/{slug}")
async def product_page(request: Request, slug: str, user: RequireUser) -> Response:
    product = await _active_product(request, slug)
    return await render(request, PRODUCT_PAGE, _product_values(request, product))


@router.post("/dashboard/store/{slug}/try")
async def try_it(request: Request, slug: str, user: RequireUser) -> Response:
    product = await _active_product(request, slug)
    services = web.services(request)
    form = await Form.read(request)
    asked = store_pages.read_try(form, product)
    caller = Caller.signed_in(user.user_id, user.user.role, origin="store")
    request_id = str(request.scope.get("state", {}).get("request_id") or "") or uuid.uuid4().hex
    result: dict[str, Any]
    try:
        answer = await try_product(
            services.store,
            caller,
            slug=product.slug,
            method=asked.method,
            path=asked.path,
            query_string=asked.query,
            headers=asked.headers,
            body=asked.body.encode("utf-8"),
            request_id=request_id,
        )
        result = store_pages.show_answer(answer)
    except ModelsnestError as exc:
        result = store_pages.show_error(exc)
    values = {**_product_values(request, product), "try_form": asked, "try_result": result}
    partial = (
        request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == TRY_RESULT_ID
    )
    return await render(request, TRY_RESULT if partial else PRODUCT_PAGE, values)
