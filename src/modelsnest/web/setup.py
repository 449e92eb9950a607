"""Mount the pages onto the application (called once, from ``app.create_app``)."""

from __future__ import annotations

from fastapi import FastAPI

from modelsnest.admin.routes import build_router as build_admin_router
from modelsnest.content import ContentLibrary
from modelsnest.settings import Settings
from modelsnest.web.errors import install_page_errors
from modelsnest.web.middleware import WebMiddleware
from modelsnest.web.routes import (
    accounts,
    billing,
    dashboard,
    dev,
    keys,
    notifications,
    playground,
    settings,
    site,
    usage,
)
from modelsnest.web.static import URL_PREFIX, StaticAssets, VersionedStaticFiles


def install_web(app: FastAPI, config: Settings, assets: StaticAssets, content: ContentLibrary) -> None:
    """Routes, static files, the page error handlers (after the API's) and the middleware
    that writes cookies and security headers."""
    app.mount(URL_PREFIX, VersionedStaticFiles(assets), name="static")
    app.include_router(accounts.router)
    app.include_router(dashboard.router)
    app.include_router(keys.router)
    app.include_router(settings.router)
    app.include_router(playground.router)
    app.include_router(build_admin_router())
    app.include_router(usage.csv_router)
    app.include_router(usage.router)
    app.include_router(billing.router)
    app.include_router(notifications.router)
    if config.dev_pages_enabled:
        app.include_router(dev.router)
    app.include_router(site.build_router(content))
    install_page_errors(app)
    app.add_middleware(WebMiddleware)
