"""The one error renderer. FastAPI's handlers, the fast lane, streams and pages all come here:
a domain error (``modelsnest.errors``; framework errors are translated into one first) is
looked up in ``errors.ERROR_KINDS`` and written in the shape of the surface that was called —
OpenAI's ``{"error": {"message", "type", "code", "param"}}`` by default, Anthropic's
``{"type": "error", "error": {"type", "message"}}`` on the Messages API. 5xx bodies are
generic; the real message goes to the log, which carries the request id."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from modelsnest.errors import (
    AuthError,
    InvalidRequest,
    MethodNotAllowed,
    ModelsnestError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    UnsupportedMediaType,
    UpstreamOverloaded,
    describe,
    error_code,
    public_message,
)
from modelsnest.exact_json import dumps
from modelsnest.observability import metrics

log = logging.getLogger(__name__)

Shape = Literal["openai", "anthropic"]

# Anthropic's error types by status (docs.claude.com/en/api/errors).
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    409: "invalid_request_error",  # an Idempotency-Key conflict: Anthropic has no type of its own
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


@dataclass(frozen=True)
class RenderedError:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def render_error(exc: BaseException, shape: Shape = "openai") -> RenderedError:
    """``exc`` as the client reads it; a 5xx's real message goes to the log."""
    status = describe(exc).status
    metrics.child(metrics.API_ERRORS, error_code(exc), str(status)).inc()
    if status >= 500:
        if isinstance(exc, ModelsnestError):
            log.error("request failed: %s (%s)", exc.message, error_code(exc))
        else:
            log.error("unhandled error", exc_info=exc)
    return error_body(exc, shape)


def error_body(exc: BaseException, shape: Shape = "openai") -> RenderedError:
    """What ``render_error`` answers, without logging (the OpenAPI document's examples)."""
    kind = describe(exc)
    message = public_message(exc)
    code = error_code(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    param = exc.param if isinstance(exc, ModelsnestError) and kind.status < 500 else None
    status = kind.status
    if shape == "anthropic":
        if code == UpstreamOverloaded.default_code:  # what Anthropic's clients wait and retry on
            status = 529
        body: dict[str, Any] = {
            "type": "error",
            "error": {"type": _ANTHROPIC_TYPES.get(status, "api_error"), "message": message},
        }
    else:
        body = {"error": {"message": message, "type": kind.type, "code": code, "param": param}}
    return RenderedError(status, body, headers)


def error_response(exc: BaseException, shape: Shape = "openai") -> Response:
    rendered = render_error(exc, shape)
    return Response(
        dumps(rendered.body),
        status_code=rendered.status,
        media_type="application/json",
        headers=rendered.headers,
    )


def stream_error_data(exc: BaseException, shape: Shape = "openai") -> dict[str, Any]:
    """The data of an error event sent inside a stream that has already started."""
    return render_error(exc, shape).body


def shape_for_path(path: str) -> Shape:
    return "anthropic" if path.startswith("/api/v1/messages") else "openai"


def _validation_error(exc: RequestValidationError) -> InvalidRequest:
    errors = exc.errors()
    if not errors:
        return InvalidRequest("Invalid request")
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    param = ".".join(loc) or None
    msg = first.get("msg", "invalid value")
    return InvalidRequest(f"{param}: {msg}" if param else msg, param=param)


_HTTP_ERRORS: dict[int, Callable[[str], ModelsnestError]] = {
    400: InvalidRequest,
    401: AuthError,
    403: PermissionDenied,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def domain_error(exc: BaseException) -> BaseException:
    """Framework errors as the domain errors they mean (anything else is left as it is)."""
    if isinstance(exc, RequestValidationError):
        return _validation_error(exc)
    if isinstance(exc, StarletteHTTPException):
        make = _HTTP_ERRORS.get(exc.status_code)
        if make is not None:
            return make(str(exc.detail))
        if exc.status_code < 500:
            return InvalidRequest(str(exc.detail))
    return exc


# Renders an error as an HTML page for a browser on a non-API path (installed by the web app).
HtmlRenderer = Callable[[Request, BaseException], Response]


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/webhooks/", "/files/")) or path in ("/healthz", "/readyz", "/metrics"):
        return False
    return "text/html" in request.headers.get("accept", "")


def install_error_handlers(app: FastAPI, html: HtmlRenderer | None = None) -> None:
    async def handle(request: Request, exc: Exception) -> Response:
        error = domain_error(exc)
        if html is not None and _wants_html(request):
            return html(request, error)
        response = error_response(error, shape_for_path(request.url.path))
        if isinstance(exc, StarletteHTTPException) and exc.headers:
            response.headers.update(exc.headers)  # e.g. Allow on a 405
        return response

    for exc_class in (ModelsnestError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(exc_class, handle)
