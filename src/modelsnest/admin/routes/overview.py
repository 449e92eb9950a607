"""``/admin``: the platform at a glance."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from modelsnest.admin import overview as service
from modelsnest.admin.routes._base import AdminActor, page, section
from modelsnest.web import context as web

router = section()


@router.get("")
async def overview_page(request: Request, admin: AdminActor) -> Response:
    figures = await service.overview(web.services(request).sessions)
    return await page(request, "overview.html", {"o": figures})
