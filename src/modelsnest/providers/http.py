"""Pooled HTTP to an upstream (aiohttp), with every failure translated at this boundary.

One ``UpstreamHTTP`` per provider owns one ``aiohttp.ClientSession`` (keep-alive connection
pool) for the upstream's API, created lazily inside the running event loop on first use, and
a second one, without our credentials, for downloading the files an upstream generated
(hosted images and videos live on other hosts: our API key must never travel there). Both
are closed by ``close()``. A provider therefore belongs to the event loop that first used it.

Timeouts, from ``ProviderConfig``:

* ``connect_timeout``     TCP (+TLS) connect of a new pooled connection (every call).
* ``first_byte_timeout``  streams only: the longest the upstream may stay silent: until the
  response headers, then until the first SSE event, then between later reads (a stream that
  stalls mid-way fails the same way). Keep-alive comments and pings count as bytes.
* ``total_timeout``       the whole exchange. It is the only bound (besides connect) of a
  non-streamed call (``post_json``, ``get_json``, ``post_form``, ``post_for_bytes``,
  ``download``): such an upstream sends its headers only once the whole answer is generated,
  so a first-byte bound would fail every long answer, and the router would retry (and the
  upstream bill) it on the next route.

Failures become ``ProviderError`` subclasses, raised ``from`` the original exception:
``ProviderConnectError`` (refused, DNS, reset, connection dropped mid-body),
``ProviderTimeout`` (any of the three timeouts), ``ProviderHTTPError`` subclasses by status
(see ``error_class_for_status``) carrying the upstream's own error message,
``ProviderProtocolError`` (an answer that cannot be parsed, or larger than allowed) and
``ProviderDownloadError`` (a generated file that cannot be fetched).

``ProviderConfig.extra`` knobs: ``max_connections`` (pool size, default 256),
``keepalive_timeout`` (seconds an idle pooled connection is kept, default 60).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp
import orjson
from yarl import URL

from modelsnest.providers.context import request_headers
from modelsnest.providers.errors import ProviderDownloadError, ProviderError, ProviderProtocolError
from modelsnest.providers.http_errors import (
    TRANSLATED,
    error_class_for_status,
    error_from_status,
    translate_exception,
    upstream_error_message,
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
# After ``data: [DONE]`` wait this long for the end of the body, so the connection goes back
# to the pool instead of being closed (well-behaved upstreams end it at once).
DRAIN_TIMEOUT = 0.5
USER_AGENT = "modelsnest-gateway"
DOWNLOAD_CHUNK = 256 * 1024


class UpstreamHTTP:
    """The pooled client of one provider: JSON, multipart and binary calls, Server-Sent-Event
    streams, and downloads of generated files."""

    def __init__(self, config: ProviderConfig, headers: Mapping[str, str] | None = None) -> None:
        self.config = config
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        }
        # Streams: silence is bounded by the first-byte timeout (session default).
        self._timeout = aiohttp.ClientTimeout(
            total=config.total_timeout,
            sock_connect=config.connect_timeout,
            sock_read=config.first_byte_timeout,
        )
        # Non-streamed calls: only the total (and connect) bound.
        self._call_timeout = aiohttp.ClientTimeout(
            total=config.total_timeout, sock_connect=config.connect_timeout
        )
        self._session: aiohttp.ClientSession | None = None
        self._download_session: aiohttp.ClientSession | None = None

    @staticmethod
    def url(base_url: str, path: str) -> URL:
        """A pre-parsed URL to pass to ``post_json``/``sse`` (parse once, not per request)."""
        return URL(base_url.rstrip("/") + path)

    def _new_session(self, headers: Mapping[str, str]) -> aiohttp.ClientSession:
        extra = self.config.extra
        connector = aiohttp.TCPConnector(
            limit=int(extra.get("max_connections", DEFAULT_MAX_CONNECTIONS)),
            limit_per_host=0,
            keepalive_timeout=float(extra.get("keepalive_timeout", DEFAULT_KEEPALIVE_TIMEOUT)),
            ttl_dns_cache=300,
        )
        return aiohttp.ClientSession(
            connector=connector, headers=headers, timeout=self._timeout, trust_env=False
        )

    @property
    def session(self) -> aiohttp.ClientSession:
        """The pooled session of the upstream's API, created on first use in the running loop."""
        session = self._session
        if session is None or session.closed:
            session = self._session = self._new_session(self._headers)
        return session

    @property
    def download_session(self) -> aiohttp.ClientSession:
        """The session for generated files: no credentials, no JSON content type."""
        session = self._download_session
        if session is None or session.closed:
            session = self._download_session = self._new_session({"User-Agent": USER_AGENT})
        return session

    async def close(self) -> None:
        for name in ("_session", "_download_session"):
            session = getattr(self, name)
            setattr(self, name, None)
            if session is not None and not session.closed:
                await session.close()

    async def _open(
        self,
        url: URL,
        payload: bytes | aiohttp.MultipartWriter | None,
        *,
        method: str = "POST",
        streamed: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        """Send and return the response once its headers arrived; non-2xx raises."""
        name = self.config.name
        try:
            resp = await self.session.request(
                method,
                url,
                data=payload,
                headers=request_headers(dict(headers) if headers else None),
                allow_redirects=False,
                timeout=self._timeout if streamed else self._call_timeout,
            )
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

    async def _body(self, resp: aiohttp.ClientResponse, limit: int | None = None) -> bytes:
        """The whole body (released afterwards); more than ``limit`` bytes raises
        ``ProviderProtocolError`` without reading the rest."""
        try:
            if limit is None:
                return await resp.read()
            declared = resp.content_length
            if declared is not None and declared > limit:
                raise ProviderProtocolError(
                    f"{self.config.name}: answer of {declared} bytes exceeds the {limit}-byte limit"
                )
            parts: list[bytes] = []
            size = 0
            async for block in resp.content.iter_chunked(DOWNLOAD_CHUNK):
                size += len(block)
                if size > limit:
                    raise ProviderProtocolError(f"{self.config.name}: answer exceeds the {limit}-byte limit")
                parts.append(block)
            return b"".join(parts)
        except TRANSLATED as exc:
            raise translate_exception(exc, self.config.name) from exc
        finally:
            resp.release()

    def _parse_json(self, raw: bytes, status: int) -> Any:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ProviderProtocolError(
                f"{self.config.name}: answer is not JSON",
                status=status,
                body=raw[:2000].decode("utf-8", "replace"),
            ) from exc

    async def post_json(self, url: URL, payload: bytes, headers: Mapping[str, str] | None = None) -> Any:
        """POST a JSON body (already encoded) and return the parsed JSON answer."""
        resp = await self._open(url, payload, headers=headers)
        return self._parse_json(await self._body(resp), resp.status)

    async def get_json(self, url: URL) -> Any:
        """GET and return the parsed JSON answer."""
        resp = await self._open(url, None, method="GET")
        return self._parse_json(await self._body(resp), resp.status)

    async def post_form(self, url: URL, form: aiohttp.MultipartWriter) -> Any:
        """POST a multipart/form-data body and return the parsed JSON answer."""
        headers = {"Content-Type": form.content_type}
        resp = await self._open(url, form, headers=headers)
        return self._parse_json(await self._body(resp), resp.status)

    async def post_for_bytes(
        self, url: URL, payload: bytes, *, limit: int, accept: str | None = None
    ) -> tuple[bytes, str | None]:
        """POST a JSON body and return the binary answer and its content type (without
        parameters), refusing answers above ``limit`` bytes."""
        headers = {"Accept": accept} if accept else None
        resp = await self._open(url, payload, headers=headers)
        content_type = resp.headers.get("Content-Type")
        body = await self._body(resp, limit)
        return body, content_type.split(";")[0].strip() if content_type else None

    async def download(self, url: str, *, limit: int) -> tuple[bytes, str | None]:
        """Fetch a file the upstream generated (``http``/``https`` only, no credentials sent,
        redirects followed) under the total timeout; at most ``limit`` bytes. Every failure is
        a ``ProviderDownloadError`` (the generation itself went well; the router may retry)."""
        name = self.config.name
        try:
            target = URL(url)
        except (ValueError, TypeError) as exc:
            raise ProviderDownloadError(f"{name}: invalid file URL {url[:200]!r}") from exc
        if target.scheme not in ("http", "https") or not target.host:
            raise ProviderDownloadError(f"{name}: refusing to download from {url[:200]!r}")
        try:
            resp = await self.download_session.get(
                target, allow_redirects=True, max_redirects=5, timeout=self._call_timeout
            )
        except TRANSLATED as exc:
            error = translate_exception(exc, name)
            raise ProviderDownloadError(f"{error.message} (downloading the generated file)") from exc
        if resp.status >= 300:
            resp.release()
            raise ProviderDownloadError(
                f"{name}: downloading the generated file failed with HTTP {resp.status}", status=resp.status
            )
        content_type = resp.headers.get("Content-Type")
        try:
            body = await self._body(resp, limit)
        except ProviderError as exc:
            raise ProviderDownloadError(f"{exc.message} (downloading the generated file)") from exc
        return body, content_type.split(";")[0].strip() if content_type else None

    async def sse(
        self, url: URL, payload: bytes, headers: Mapping[str, str] | None = None
    ) -> AsyncGenerator[Any, None]:
        """POST and yield each SSE ``data:`` payload parsed as JSON, until ``[DONE]`` or the end.

        Comment lines (``: keep-alive``), ``event:``/``id:``/``retry:`` fields and blank lines
        are skipped; a JSON value split over several ``data:`` lines is joined. Closing the
        generator early closes the upstream connection (the upstream sees a disconnect).
        """
        resp = await self._open(url, payload, streamed=True, headers=headers)
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
