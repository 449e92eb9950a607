"""A fast lane for the hottest routes.

Measured on a 2-core machine, FastAPI's routing, dependency injection and exception layers
cost about a quarter of a worker's CPU per chat completion. The routes below are therefore
served by this pure-ASGI dispatcher before FastAPI sees them, with the same handler functions
FastAPI's routes call (which keep them in the OpenAPI document); every other path falls
through to FastAPI. Errors take the one mapping of ``api/errors.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from modelsnest.api.errors import error_body, error_response
from modelsnest.api.v1.chat import serve_chat
from modelsnest.api.v1.media import serve_embeddings
from modelsnest.errors import ModelsnestError
from modelsnest.gateway.service import Gateway

log = logging.getLogger(__name__)

Handler = Callable[[Request, Gateway, str], Awaitable[Response]]


ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "/api/v1/chat/completions"): serve_chat,
    ("POST", "/api/v1/embeddings"): serve_embeddings,
}


class FastLane:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = (
            ROUTES.get((scope.get("method", ""), scope.get("path", ""))) if scope["type"] == "http" else None
        )
        if handler is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        gateway: Gateway = scope["app"].state.gateway
        request_id = str(scope.get("state", {}).get("request_id") or "")
        try:
            response = await handler(request, gateway, request_id)
        except ModelsnestError as exc:
            if exc.status >= 500:
                log.error("request failed: %s (%s)", exc.message, exc.code)
            response = error_response(exc)
        except Exception:
            log.exception("unhandled error")
            response = JSONResponse(
                error_body("Internal server error", "server_error", "INTERNAL_ERROR"), status_code=500
            )
        await response(scope, receive, send)
