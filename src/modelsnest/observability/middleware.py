"""Pure-ASGI request id middleware (BaseHTTPMiddleware would buffer streams and cost ~0.3 ms).

Plain ASGI needs no web framework: the types below are the ASGI spec's, structurally the same
as ``starlette.types``, so this package stays outside the HTTP edge (``tests/test_import_rules.py``).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias

from modelsnest.observability import metrics
from modelsnest.observability.logging import request_id_var

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("modelsnest.access")
# Set by the fast lane, which serves its routes before any router could set ``scope["route"]``.
LANE_ROUTE_KEY = "modelsnest.lane_route"


def route_label(scope: Scope) -> str:
    """The route's template (``/api/v1/generation``, ``/models/{slug}``), never the raw path:
    a label per distinct URL would grow without bound."""
    path = getattr(scope.get("route"), "path", None) or scope.get(LANE_ROUTE_KEY)
    if isinstance(path, str):
        return path
    if scope["path"].startswith("/static/"):
        return "/static"
    return "unmatched"


def new_request_id() -> str:
    """128 random bits, like a uuid4's hex. A request id names a request (and is unique in the
    usage log); it guards nothing, so it needs no cryptographic randomness: ``uuid4`` reads the
    kernel's random source on every call, 3 % of a worker's time under load. A generator of
    our own, seeded from that source and again in a forked child: the module-level one is
    reseeded by whoever calls ``random.seed`` (test frameworks do), which would repeat ids."""
    return f"req_{_ids.getrandbits(128):032x}"


_ids = random.Random()  # seeded from os.urandom
os.register_at_fork(after_in_child=_ids.seed)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_label(scope)
            metrics.child(metrics.HTTP_REQUESTS, route, scope["method"], str(status)).inc()
            metrics.child(metrics.HTTP_DURATION, route).observe(elapsed)
            if scope["path"] not in ("/healthz", "/metrics"):
                log.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={"status": status, "ms": round(elapsed * 1000, 2)},
                )
            request_id_var.reset(token)
