"""The public site's routes. ``build_router`` needs the content library at start-up: one
route is registered per company page it holds."""

from __future__ import annotations

from fastapi import APIRouter

from modelsnest.content import ContentLibrary
from modelsnest.web.routes.site import contact, documents, feeds, home, models, status


def build_router(content: ContentLibrary) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    router.include_router(feeds.router)  # first: /blog/rss.xml before /blog/{slug}
    router.include_router(home.router)
    router.include_router(models.router)
    router.include_router(status.router)
    router.include_router(contact.router)
    router.include_router(documents.build_router(content))
    return router


__all__ = ["build_router"]
