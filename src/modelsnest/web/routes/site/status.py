"""``/status``: every provider's and model's success rate and median latency over the last
24 hours and 30 days, the circuit state, daily uptime bars and the incidents, from the
hourly rollups (``health``), cached for half a minute."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from modelsnest.web import context as web
from modelsnest.web import seo
from modelsnest.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/status")
async def status_page(request: Request) -> Response:
    services = web.services(request)
    directory = await services.directory.get()
    report = await services.status.report({m.slug: m.info.name for m in directory.models})
    return await render(
        request,
        "pages/site/status.html",
        {
            "report": report,
            "meta": seo.page_meta(
                request,
                "Status",
                "Live health of every provider and model: success rates, median latency, uptime "
                "over 30 days and incidents.",
            ),
        },
        public=True,
        max_age=30,
    )
