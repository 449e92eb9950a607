"""The model catalog: ``/models`` (category filter and search, by query string, so it works
without JavaScript; htmx swaps only the results while typing) and ``/models/{slug}``, the
model's docs rendered for this request's public URL at its current price."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.catalog.docs_render import ModelDocs, model_docs
from modelsnest.catalog.listing import MAX_QUERY_LENGTH
from modelsnest.errors import NotFound
from modelsnest.web import context as web
from modelsnest.web import seo
from modelsnest.web.errors import PageError
from modelsnest.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/models")
async def models_index(request: Request) -> Response:
    directory = await web.services(request).directory.get()
    query = request.query_params.get("q", "").strip()[:MAX_QUERY_LENGTH]
    wanted = request.query_params.get("category") or None
    category = directory.category(wanted) if wanted else None
    found = directory.search(category=category.slug if category else None, query=query)
    values = {
        "directory": directory,
        "query": query,
        "category": category,
        "results": found,
        "counts": directory.counts(),
        "meta": seo.page_meta(
            request,
            f"{category.name} models" if category else "Models",
            category.description
            if category
            else "Every model behind the API: chat, multimodal, images, audio, video and embeddings, "
            "with prices, parameters and runnable examples.",
            path="/models" + (f"?category={category.slug}" if category else ""),
        ),
    }
    template = "pages/site/models/_results.html" if web_is_htmx(request) else "pages/site/models/index.html"
    return await render(request, template, values, public=True)


def web_is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "model-results"


@router.get("/models/{slug}")
async def model_page(request: Request, slug: str) -> Response:
    services = web.services(request)
    directory = await services.directory.get()
    model = directory.get(slug)
    if model is None:
        raise PageError(
            404,
            "Model not found",
            f"There is no model “{slug[:80]}” in the catalog. Browse every model instead.",
        )
    base = web.site_url(request)
    docs: ModelDocs | None
    try:
        docs = await model_docs(services.sessions, slug, base_url=base + "/api/v1", site_url=base)
    except NotFound:
        docs = None  # a model without docs still gets its page: price, providers, id
    category = directory.category(model.info.category)
    trail = [("Home", "/"), ("Models", "/models")]
    if category is not None:
        trail.append((category.name, f"/models?category={category.slug}"))
    trail.append((model.info.name, f"/models/{slug}"))
    return await render(
        request,
        "pages/site/models/detail.html",
        {
            "model": model,
            "docs": docs,
            "category": category,
            "trail": trail,
            "meta": seo.page_meta(
                request,
                f"{model.info.name} API",
                (model.info.description or f"{model.info.name} by {model.info.vendor}")[:300],
                path=f"/models/{slug}",
                json_ld=[seo.breadcrumbs(request, trail)],
            ),
        },
        public=True,
    )
