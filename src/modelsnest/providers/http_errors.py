"""Upstream failures → ``ProviderError``: HTTP statuses, aiohttp/asyncio exceptions, and the
human message inside an upstream's error body (OpenAI, Anthropic, Novita, ElevenLabs, FastAPI
shapes). Pure functions, no I/O."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import aiohttp
import orjson
from aiohttp.http_exceptions import HttpProcessingError

from modelsnest.providers.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderConnectError,
    ProviderError,
    ProviderHTTPError,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
)

__all__ = [
    "MAX_ERROR_BODY",
    "TRANSLATED",
    "error_class_for_status",
    "error_from_status",
    "translate_exception",
    "upstream_error_message",
]

MAX_ERROR_BODY = 4096  # bytes of an error body kept on the exception

_STATUS_ERRORS: dict[int, type[ProviderHTTPError]] = {
    400: ProviderBadRequest,
    404: ProviderBadRequest,
    413: ProviderBadRequest,
    422: ProviderBadRequest,
    401: ProviderAuthError,
    403: ProviderAuthError,
    429: ProviderRateLimited,
}

# Most specific first: the first row whose class matches wins.
_EXCEPTION_MAP: tuple[tuple[type[BaseException], type[ProviderError], str], ...] = (
    (aiohttp.ConnectionTimeoutError, ProviderTimeout, "timed out connecting"),
    (aiohttp.SocketTimeoutError, ProviderTimeout, "upstream sent nothing within the first-byte timeout"),
    (TimeoutError, ProviderTimeout, "upstream exceeded the total timeout"),
    (aiohttp.ClientConnectorError, ProviderConnectError, "cannot connect"),
    (aiohttp.ClientPayloadError, ProviderConnectError, "connection broke mid-response"),
    (aiohttp.ServerDisconnectedError, ProviderConnectError, "upstream closed the connection"),
    (aiohttp.ClientConnectionError, ProviderConnectError, "connection error"),
    (HttpProcessingError, ProviderProtocolError, "malformed HTTP response"),
    (aiohttp.ClientResponseError, ProviderProtocolError, "malformed HTTP response"),
    (aiohttp.ClientError, ProviderConnectError, "HTTP client error"),
)
TRANSLATED: tuple[type[BaseException], ...] = (aiohttp.ClientError, HttpProcessingError, TimeoutError)


def error_class_for_status(status: int) -> type[ProviderHTTPError]:
    """429 → rate limited, 5xx → server error, 400/404/413/422 → bad request, 401/403 → auth."""
    cls = _STATUS_ERRORS.get(status)
    if cls is not None:
        return cls
    return ProviderServerError if status >= 500 else ProviderHTTPError


def translate_exception(exc: BaseException, provider: str) -> ProviderError:
    """The ``ProviderError`` for an aiohttp/asyncio exception (raise it ``from exc``)."""
    for source, target, text in _EXCEPTION_MAP:
        if isinstance(exc, source):
            detail = str(exc)
            return target(f"{provider}: {text}" + (f" ({detail})" if detail else ""))
    return ProviderError(f"{provider}: {type(exc).__name__}: {exc}")


def _message_from(data: Any) -> str | None:
    if isinstance(data, str):
        return data or None
    if not isinstance(data, Mapping):
        return None
    error = data.get("error")
    if isinstance(error, Mapping):
        found = _message_from(error)
        if found:
            return found
    elif isinstance(error, str) and error:
        description = data.get("error_description")
        return f"{error}: {description}" if isinstance(description, str) else error
    for key in ("message", "detail", "reason", "msg"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, Mapping) and key == "detail":  # ElevenLabs: {"detail": {"status", "message"}}
            found = _message_from(value)
            if found:
                return found
        if value is not None and key == "detail":
            return orjson.dumps(value).decode()
    return None


def upstream_error_message(raw: bytes, status: int) -> str:
    """The human message in an upstream error body (OpenAI, Anthropic, Novita, FastAPI… shapes)."""
    try:
        found = _message_from(orjson.loads(raw))
    except orjson.JSONDecodeError:
        found = raw.decode("utf-8", "replace").strip()[:500] or None
    if found:
        return found
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def error_from_status(status: int, raw: bytes, headers: Mapping[str, str] | None = None) -> ProviderHTTPError:
    """The error for a non-2xx answer: class by status, the upstream's message, its body."""
    error = error_class_for_status(status)(
        upstream_error_message(raw, status),
        status=status,
        body=raw[:MAX_ERROR_BODY].decode("utf-8", "replace"),
    )
    retry_after = (headers or {}).get("Retry-After")
    if retry_after:
        with contextlib.suppress(ValueError):
            error.retry_after = float(retry_after)
    return error
