"""``/admin/providers``: upstream providers (add, edit, enable, test, health) and their
routes (priority, weight, upstream cost), with a warning for every route that costs more
than the model sells for."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from modelsnest.admin import providers as service
from modelsnest.admin.routes._base import AdminActor, done, failed, page, section
from modelsnest.catalog.providers import RouteView
from modelsnest.crypto import SecretBox
from modelsnest.db.models import PRICE_UNITS
from modelsnest.errors import ModelsnestError, NotFound
from modelsnest.web import context as web
from modelsnest.web.errors import PageError
from modelsnest.web.forms import Form

router = section()

PROVIDER_NOT_FOUND = PageError(404, "Provider not found", "There is no provider with this name.")
ROUTE_NOT_FOUND = PageError(404, "Route not found", "This provider has no such route.")
PROVIDER_FIELDS = ("name", "kind", "base_url", "api_key", *service.TIMEOUT_FIELDS)


def _box(request: Request) -> SecretBox:
    return SecretBox(web.services(request).settings.resolved_secret_key())


def _refresh(request: Request) -> None:
    web.services(request).gateway.catalog.invalidate()


def _timeouts(form: Form) -> dict[str, str]:
    return {field: form.get(field) for field in service.TIMEOUT_FIELDS}


async def _list_page(request: Request, form: Form | None = None, status: int = 200) -> Response:
    sessions = web.services(request).sessions
    values: dict[str, Any] = {
        "providers": await service.health_list(sessions),
        "warnings": await service.warnings(sessions),
        "kinds": [(k.name, f"{k.label} ({k.name})") for k in service.kinds()],
        "form": form.shown() if form else {},
        "errors": form.errors if form else {},
    }
    return await page(request, "providers/index.html", values, status_code=status)


@router.get("/providers")
async def providers_page(request: Request, admin: AdminActor) -> Response:
    return await _list_page(request)


@router.post("/providers")
async def add_provider(request: Request, admin: AdminActor) -> Response:
    form = await Form.read(request)
    try:
        view = await service.add_provider(
            web.services(request).sessions,
            _box(request),
            admin,
            name=form.get("name"),
            kind=form.get("kind"),
            base_url=form.get("base_url"),
            api_key=form.get("api_key"),
            timeouts=_timeouts(form),
        )
    except ModelsnestError as exc:
        form.values.pop("api_key", None)
        form.fail_with(exc, fields=PROVIDER_FIELDS)
        return await _list_page(request, form, 400)
    _refresh(request)
    return done(
        request, f"/admin/providers/{view.name}", f"Provider {view.name} added. Route models to it below."
    )


async def _detail_page(
    request: Request, name: str, *, form: Form | None = None, status: int = 200, test: Any = None
) -> Response:
    sessions = web.services(request).sessions
    try:
        health, routes = await service.provider_page(sessions, name)
    except NotFound as exc:
        raise PROVIDER_NOT_FOUND from exc
    warnings = {w.route_id for w in await service.warnings(sessions)}
    values: dict[str, Any] = {
        "h": health,
        "p": health.provider,
        "routes": routes,
        "warned": warnings,
        "cost_text": {r.id: service.cost_text(r) for r in routes},
        "units": [(u, u.replace("_", " ")) for u in PRICE_UNITS],
        "test": test,
        "chat_model": await service.chat_model(sessions, name),
        "form": form.shown() if form else {},
        "errors": form.errors if form else {},
    }
    return await page(request, "providers/detail.html", values, status_code=status)


@router.get("/providers/{name}")
async def provider_page(request: Request, name: str, admin: AdminActor) -> Response:
    return await _detail_page(request, name)


@router.post("/providers/{name}")
async def update_provider(request: Request, name: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    try:
        await service.update_provider(
            web.services(request).sessions,
            _box(request),
            admin,
            name,
            base_url=form.get("base_url"),
            api_key=form.get("api_key"),
            clear_api_key=form.checked("clear_api_key"),
            timeouts=_timeouts(form),
        )
    except NotFound as exc:
        raise PROVIDER_NOT_FOUND from exc
    except ModelsnestError as exc:
        form.values.pop("api_key", None)
        form.fail_with(exc, fields=PROVIDER_FIELDS)
        return await _detail_page(request, name, form=form, status=400)
    _refresh(request)
    return done(request, f"/admin/providers/{name}", "Provider saved.")


@router.post("/providers/{name}/enabled")
async def set_enabled(request: Request, name: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    try:
        view = await service.set_enabled(web.services(request).sessions, admin, name, form.checked("enabled"))
    except NotFound as exc:
        raise PROVIDER_NOT_FOUND from exc
    _refresh(request)
    state = "enabled: its routes are served again" if view.enabled else "disabled: its routes are skipped"
    return done(request, f"/admin/providers/{name}", f"{name} is {state}.")


@router.post("/providers/{name}/test")
async def test_connection(request: Request, name: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    try:
        result = await service.test_connection(
            web.services(request).sessions,
            _box(request),
            admin,
            name,
            upstream_model=form.get("upstream_model"),
        )
    except NotFound as exc:
        raise PROVIDER_NOT_FOUND from exc
    except ModelsnestError as exc:
        return failed(request, f"/admin/providers/{name}", exc)
    return await _detail_page(request, name, test=result)


async def _route(request: Request, name: str, route_id: int) -> RouteView:
    try:
        _, routes = await service.provider_page(web.services(request).sessions, name)
    except NotFound as exc:
        raise PROVIDER_NOT_FOUND from exc
    for route in routes:
        if route.id == route_id:
            return route
    raise ROUTE_NOT_FOUND


@router.post("/providers/{name}/routes")
async def add_route(request: Request, name: str, admin: AdminActor) -> Response:
    form = await Form.read(request)
    url = f"/admin/providers/{name}"
    try:
        route = await service.add_route(
            web.services(request).sessions,
            admin,
            name,
            model_slug=form.get("model_slug"),
            upstream_model=form.get("upstream_model"),
            priority=form.get("priority"),
            weight=form.get("weight"),
        )
    except ModelsnestError as exc:
        return failed(request, url, exc)
    _refresh(request)
    return done(request, url, f"{route.model_slug} now routes to {name} as {route.upstream_model}.")


@router.get("/providers/{name}/routes/{route_id}")
async def route_page(request: Request, name: str, route_id: int, admin: AdminActor) -> Response:
    route = await _route(request, name, route_id)
    sessions = web.services(request).sessions
    warned = any(w.route_id == route_id for w in await service.warnings(sessions))
    values = {
        "r": route,
        "warned": warned,
        "history": await service.cost_history(sessions, route_id),
        "cost_text": service.cost_text(route),
        "units": [(u, u.replace("_", " ")) for u in PRICE_UNITS],
    }
    return await page(request, "providers/route.html", values)


@router.post("/providers/{name}/routes/{route_id}")
async def update_route(request: Request, name: str, route_id: int, admin: AdminActor) -> Response:
    form = await Form.read(request)
    route = await _route(request, name, route_id)
    url = f"/admin/providers/{name}#route-{route_id}"
    try:
        await service.update_route(
            web.services(request).sessions,
            admin,
            route,
            priority=form.get("priority"),
            weight=form.get("weight"),
            enabled=form.checked("enabled"),
        )
    except ModelsnestError as exc:
        return failed(request, url, exc)
    _refresh(request)
    return done(request, url, f"Route {route.model_slug} → {route.upstream_model} saved.")


@router.post("/providers/{name}/routes/{route_id}/cost")
async def set_cost(request: Request, name: str, route_id: int, admin: AdminActor) -> Response:
    form = await Form.read(request)
    route = await _route(request, name, route_id)
    services = web.services(request)
    snapshot = await services.gateway.catalog.get()
    model = snapshot.models.get(route.model_slug)
    endpoint = model.endpoint if model is not None else "chat"
    url = f"/admin/providers/{name}/routes/{route_id}"
    try:
        await service.set_cost(
            services.sessions,
            admin,
            route,
            endpoint,
            unit=form.get("unit"),
            text=form.get("cost"),
            reason=form.get("reason"),
        )
    except ModelsnestError as exc:
        return failed(request, url, exc)
    _refresh(request)
    return done(request, url, f"Upstream cost of {route.model_slug} on {name} saved for new requests.")
