"""Routes declared once, served two ways.

Measured on a 2-core machine, FastAPI's routing, dependency injection and exception layers
cost about a quarter of a worker's CPU per chat completion. A ``LaneRoute`` is therefore a
plain handler ``(request, services, request_id) -> Response`` with no FastAPI dependencies:
``add_to_router`` puts it in FastAPI's router (and so in the OpenAPI document), and, when
``MODELSNEST_FAST_LANE`` is on (the default), the ``FastLane`` middleware serves the same
handler ahead of FastAPI. There is no second copy to drift: a handler cannot declare a
dependency the lane would skip, and ``tests/api/test_fast_lane.py`` checks that both ways
answer alike. Errors take the one renderer of ``api/errors.py`` either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from modelsnest.api.deps import request_id, services_of
from modelsnest.api.errors import domain_error, error_response, shape_for_path
from modelsnest.observability.middleware import LANE_ROUTE_KEY
from modelsnest.services import Services

Handler = Callable[[Request, Services, str], Awaitable[Response]]


@dataclass(frozen=True)
class LaneRoute:
    method: str
    path: str  # without the router's prefix
    handler: Handler
    name: str
    summary: str
    description: str = ""
    status_code: int = 200
    openapi: Mapping[str, Any] = field(default_factory=dict)  # responses, openapi_extra …


def add_to_router(router: APIRouter, routes: Iterable[LaneRoute]) -> None:
    for route in routes:

        def endpoint(handler: Handler = route.handler) -> Callable[[Request], Awaitable[Response]]:
            async def serve(request: Request) -> Response:
                return await handler(request, services_of(request), await request_id(request))

            return serve

        router.add_api_route(
            route.path,
            endpoint(),
            methods=[route.method],
            name=route.name,
            operation_id=route.name,
            summary=route.summary,
            description=route.description,
            status_code=route.status_code,
            response_model=None,
            **dict(route.openapi),
        )


class FastLane:
    """Serves the lane routes ahead of FastAPI; every other request falls through."""

    def __init__(self, app: ASGIApp, routes: Mapping[tuple[str, str], Handler]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = (
            self.routes.get((scope.get("method", ""), scope.get("path", "")))
            if scope["type"] == "http"
            else None
        )
        if handler is None:
            await self.app(scope, receive, send)
            return
        scope[LANE_ROUTE_KEY] = scope["path"]
        request = Request(scope, receive)
        services: Services = scope["app"].state.services
        try:
            response = await handler(request, services, str(scope.get("state", {}).get("request_id") or ""))
        except Exception as exc:
            response = error_response(domain_error(exc), shape_for_path(scope["path"]))
        await response(scope, receive, send)
