"""The one place where errors become HTTP: the OpenAI error shape
``{"error": {"message", "type", "code", "param"}}`` with the status from the error tree."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelsnest.errors import ModelsnestError, RateLimited

log = logging.getLogger(__name__)


def error_body(message: str, type_: str, code: str, param: str | None = None) -> dict[str, object]:
    return {"error": {"message": message, "type": type_, "code": code, "param": param}}


def error_response(exc: ModelsnestError) -> JSONResponse:
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    message = exc.message if exc.status < 500 or exc.code != "INTERNAL_ERROR" else "Internal server error"
    return JSONResponse(
        error_body(message, exc.error_type, exc.code, exc.param), status_code=exc.status, headers=headers
    )


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "Invalid request", None
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    param = ".".join(loc) or None
    msg = first.get("msg", "invalid value")
    return (f"{param}: {msg}" if param else msg), param


_HTTP_CODES = {
    400: ("invalid_request_error", "INVALID_REQUEST"),
    401: ("authentication_error", "INVALID_TOKEN"),
    403: ("permission_error", "FORBIDDEN"),
    404: ("invalid_request_error", "NOT_FOUND"),
    405: ("invalid_request_error", "METHOD_NOT_ALLOWED"),
    413: ("invalid_request_error", "PAYLOAD_TOO_LARGE"),
    415: ("invalid_request_error", "UNSUPPORTED_MEDIA_TYPE"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ModelsnestError)
    async def _domain(_: Request, exc: ModelsnestError) -> JSONResponse:
        if exc.status >= 500:
            log.error("request failed: %s (%s)", exc.message, exc.code)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(exc)
        return JSONResponse(
            error_body(message, "invalid_request_error", "INVALID_REQUEST", param), status_code=400
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_, code = _HTTP_CODES.get(exc.status_code, ("server_error", "HTTP_ERROR"))
        return JSONResponse(
            error_body(str(exc.detail), type_, code), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(
            error_body("Internal server error", "server_error", "INTERNAL_ERROR"), status_code=500
        )
