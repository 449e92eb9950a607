"""Pooled HTTP to an upstream (aiohttp), with every failure translated at this boundary.

One ``UpstreamHTTP`` per provider owns one ``aiohttp.ClientSession`` (keep-alive connection
pool), created lazily inside the running event loop on first use and closed by ``close()``.
A provider therefore belongs to the event loop that first used it.

Timeouts, from ``ProviderConfig``:

* ``connect_timeout``     TCP (+TLS) connect of a new pooled connection.
* ``first_byte_timeout``  the longest the upstream may stay silent: until the response
  headers, then until the first SSE event, then between later reads (a stream that stalls
  mid-way fails the same way). Keep-alive comments and pings count as bytes.
* ``total_timeout``       the whole exchange, streamed body included.

Failures become ``ProviderError`` subclasses, raised ``from`` the original exception:
``ProviderConnectError`` (refused, DNS, reset, connection dropped mid-body),
``ProviderTimeout`` (any of the three timeouts), ``ProviderHTTPError`` subclasses by status
(see ``error_class_for_status``) carrying the upstream's own error message, and
``ProviderProtocolError`` (an answer that cannot be parsed).

``ProviderConfig.extra`` knobs: ``max_connections`` (pool size, default 256),
``keepalive_timeout`` (seconds an idle pooled connection is kept, default 60).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Mapping
from http import HTTPStatus
from typing import Any

import aiohttp
import orjson
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

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
from modelsnest.providers.types import ProviderConfig

__all__ = [
    "UpstreamHTTP",
    "error_class_for_status",
    "error_from_status",
    "translate_exception",
    "upstream_error_message",
]

DEFAULT_MAX_CONNECTIONS = 256
DEFAULT_KEEPALIVE_TIMEOUT = 60.0
MAX_SSE_LINE = 16 * 1024 * 1024
MAX_ERROR_BODY = 4096  # bytes of an error body kept on the exception
# After ``data: [DONE]`` wait this long for the end of the body, so the connection goes back
# to the pool instead of being closed (well-behaved upstreams end it at once).
DRAIN_TIMEOUT = 0.5
USER_AGENT = "modelsnest-gateway"

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


class UpstreamHTTP:
    """The pooled client of one provider: JSON requests and Server-Sent-Event streams."""

    def __init__(self, config: ProviderConfig, headers: Mapping[str, str] | None = None) -> None:
        self.config = config
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        }
        self._timeout = aiohttp.ClientTimeout(
            total=config.total_timeout,
            sock_connect=config.connect_timeout,
            sock_read=config.first_byte_timeout,
        )
        self._session: aiohttp.ClientSession | None = None

    @staticmethod
    def url(base_url: str, path: str) -> URL:
        """A pre-parsed URL to pass to ``post_json``/``sse`` (parse once, not per request)."""
        return URL(base_url.rstrip("/") + path)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The pooled session, created on first use in the running loop."""
        session = self._session
        if session is None or session.closed:
            extra = self.config.extra
            connector = aiohttp.TCPConnector(
                limit=int(extra.get("max_connections", DEFAULT_MAX_CONNECTIONS)),
                limit_per_host=0,
                keepalive_timeout=float(extra.get("keepalive_timeout", DEFAULT_KEEPALIVE_TIMEOUT)),
                ttl_dns_cache=300,
            )
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=self._timeout,
                trust_env=False,
            )
        return session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def _open(self, url: URL, payload: bytes) -> aiohttp.ClientResponse:
        """POST and return the response once its headers arrived; non-2xx raises."""
        name = self.config.name
        try:
            resp = await self.session.post(url, data=payload, allow_redirects=False)
        except TRANSLATED as exc:
            raise translate_exception(exc, name) from exc
        if resp.status < 300:
            return resp
        try:
            raw = await resp.read()
        except TRANSLATED as exc:
            raise error_from_status(resp.status, b"", resp.headers) from exc
        finally:
            resp.release()
        raise error_from_status(resp.status, raw, resp.headers)

    async def post_json(self, url: URL, payload: bytes) -> Any:
        """POST a JSON body (already encoded) and return the parsed JSON answer."""
        resp = await self._open(url, payload)
        try:
            raw = await resp.read()
        except TRANSLATED as exc:
            raise translate_exception(exc, self.config.name) from exc
        finally:
            resp.release()
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ProviderProtocolError(
                f"{self.config.name}: answer is not JSON",
                status=resp.status,
                body=raw[:2000].decode("utf-8", "replace"),
            ) from exc

    async def sse(self, url: URL, payload: bytes) -> AsyncGenerator[Any, None]:
        """POST and yield each SSE ``data:`` payload parsed as JSON, until ``[DONE]`` or the end.

        Comment lines (``: keep-alive``), ``event:``/``id:``/``retry:`` fields and blank lines
        are skipped; a JSON value split over several ``data:`` lines is joined. Closing the
        generator early closes the upstream connection (the upstream sees a disconnect).
        """
        resp = await self._open(url, payload)
        clean = False
        try:
            if resp.content_type == "application/json":
                raw = await resp.read()
                clean = True
                raise ProviderProtocolError(
                    f"{self.config.name}: expected an event stream, got JSON: "
                    + upstream_error_message(raw, resp.status),
                    status=resp.status,
                    body=raw[:2000].decode("utf-8", "replace"),
                )
            content = resp.content
            readany = content.readany
            pending: bytes | None = None  # a JSON value whose data: lines are not all here yet
            tail: list[bytes] = []  # the start of a line whose end is not here yet
            tail_size = 0
            eof = done = False
            while not done and not eof:
                block = await readany()
                if not block:
                    eof = True
                    lines = [b"".join(tail)] if tail else []
                elif b"\n" not in block:
                    tail.append(block)
                    tail_size += len(block)
                    if tail_size > MAX_SSE_LINE:
                        raise ProviderProtocolError(f"{self.config.name}: event line too long")
                    continue
                else:
                    if tail:
                        tail.append(block)
                        block = b"".join(tail)
                    lines = block.split(b"\n")
                    rest = lines.pop()
                    tail = [rest] if rest else []
                    tail_size = len(rest)
                for line in lines:
                    if line.startswith(b"data:"):
                        data = line[5:].strip()
                        if pending is not None:
                            data = pending + b"\n" + data
                        elif data == b"[DONE]":
                            done = True
                            break
                        try:
                            event = orjson.loads(data)
                        except orjson.JSONDecodeError:
                            pending = data
                            continue
                        pending = None
                        yield event
                    elif pending is not None and not line.strip():
                        raise ProviderProtocolError(
                            f"{self.config.name}: event is not JSON",
                            body=pending[:2000].decode("utf-8", "replace"),
                        )
            if pending is not None:
                raise ProviderProtocolError(
                    f"{self.config.name}: event is not JSON", body=pending[:2000].decode("utf-8", "replace")
                )
            if not content.is_eof():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(DRAIN_TIMEOUT):
                        await content.wait_eof()
            clean = content.is_eof()
        except TRANSLATED as exc:
            raise translate_exception(exc, self.config.name) from exc
        finally:
            if clean:
                resp.release()
            else:
                resp.close()
