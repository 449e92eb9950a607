"""The landing page and the pricing page: the landing copy from the content, every price
from the catalog (never typed into a template)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.catalog.listing import Category, Directory, ListedModel
from modelsnest.web import context as web
from modelsnest.web import seo
from modelsnest.web.render import render

router = APIRouter(include_in_schema=False)

# On the landing page each category shows a few models (featured first); /pricing shows all.
LANDING_MODELS_PER_CATEGORY = 4


def landing_pricing(directory: Directory) -> list[tuple[Category, list[ListedModel]]]:
    out = []
    for category, models in directory.grouped():
        ranked = sorted(models, key=lambda m: not m.featured)  # stable: catalog order otherwise
        out.append((category, ranked[:LANDING_MODELS_PER_CATEGORY]))
    return out


@router.get("/")
async def landing(request: Request) -> Response:
    services = web.services(request)
    base = web.site_url(request)
    directory = await services.directory.get()
    settings = services.settings
    return await render(
        request,
        "pages/site/home.html",
        {
            "landing": services.content.landing(base_url=base),
            "pricing": landing_pricing(directory),
            "directory": directory,
            "vendors": len({m.info.vendor for m in directory.models}),
            "meta": seo.page_meta(
                request,
                f"{settings.company_name}: every AI model, one API, exact billing",
                "One OpenAI-compatible API and one key for chat, embeddings, images, speech, "
                "transcription and video models, billed from prepaid credits to the nano-dollar.",
                path="/",
                json_ld=[seo.organization(request, settings.company_name, settings.contact_email)],
            ),
        },
        public=True,
    )


@router.get("/pricing")
async def pricing(request: Request) -> Response:
    directory = await web.services(request).directory.get()
    return await render(
        request,
        "pages/site/pricing.html",
        {
            "groups": directory.grouped(),
            "directory": directory,
            "meta": seo.page_meta(
                request,
                "Pricing",
                "Pay per use from prepaid credits: every model's price per 1K tokens, image, second "
                "or character, exact to the nano-dollar. No subscription, no charge for errors.",
                json_ld=[seo.breadcrumbs(request, [("Home", "/"), ("Pricing", "/pricing")])],
            ),
        },
        public=True,
    )
