"""The HTTP boundary: SSE parsing, pooling, timeouts and error translation over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp import web

from modelsnest.providers.errors import (
    ProviderAuthError,
    ProviderBadRequest,
    ProviderConnectError,
    ProviderDownloadError,
    ProviderError,
    ProviderHTTPError,
    ProviderProtocolError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
)
from modelsnest.providers.http import (
    UpstreamHTTP,
    error_class_for_status,
    error_from_status,
    translate_exception,
    upstream_error_message,
)
from modelsnest.providers.types import ProviderConfig
from tests.fakes.openai_upstream import FakeOpenAIUpstream
from tests.fakes.raw import RawServer


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ProviderBadRequest),
        (404, ProviderBadRequest),
        (413, ProviderBadRequest),
        (422, ProviderBadRequest),
        (401, ProviderAuthError),
        (403, ProviderAuthError),
        (429, ProviderRateLimited),
        (500, ProviderServerError),
        (503, ProviderServerError),
        (529, ProviderServerError),
        (409, ProviderHTTPError),
    ],
)
def test_status_table(status: int, cls: type[ProviderHTTPError]) -> None:
    assert error_class_for_status(status) is cls


def test_error_messages_of_known_shapes() -> None:
    assert upstream_error_message(b'{"error": {"message": "bad model", "type": "x"}}', 400) == "bad model"
    anthropic = b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'
    assert upstream_error_message(anthropic, 529) == "Overloaded"
    assert (
        upstream_error_message(b'{"code": 403, "reason": "NOT_ENOUGH_BALANCE", "message": "no money"}', 403)
        == "no money"
    )
    assert upstream_error_message(b'{"detail": [{"loc": ["body"], "msg": "x"}]}', 422).startswith("[{")
    assert upstream_error_message(b"<html>Bad Gateway</html>", 502) == "<html>Bad Gateway</html>"
    assert upstream_error_message(b"", 502) == "502 Bad Gateway"
    error = error_from_status(429, b"{}", {"Retry-After": "7"})
    assert isinstance(error, ProviderRateLimited) and error.retry_after == 7.0 and error.status == 429


def test_exception_translation_is_most_specific() -> None:
    assert isinstance(translate_exception(aiohttp.ConnectionTimeoutError(), "p"), ProviderTimeout)
    assert isinstance(translate_exception(aiohttp.SocketTimeoutError(), "p"), ProviderTimeout)
    assert isinstance(translate_exception(TimeoutError(), "p"), ProviderTimeout)
    assert isinstance(translate_exception(aiohttp.ServerDisconnectedError(), "p"), ProviderConnectError)
    assert isinstance(translate_exception(aiohttp.ClientPayloadError("cut"), "p"), ProviderConnectError)
    assert translate_exception(ValueError("x"), "p").__class__ is ProviderError


@pytest.fixture
async def http() -> AsyncIterator[UpstreamHTTP]:
    client = UpstreamHTTP(ProviderConfig(name="t", kind="openai", first_byte_timeout=2, total_timeout=5))
    yield client
    await client.close()


async def collect(http: UpstreamHTTP, url: str) -> list[object]:
    return [event async for event in http.sse(http.url(url, "/sse"), b"{}")]


async def test_sse_parsing_edge_cases(http: UpstreamHTTP) -> None:
    body = (
        b": comment\n\n"
        b'event: message\r\nid: 1\r\ndata: {"a": 1}\r\n\r\n'
        b"retry: 100\n"
        b'data:{"b":2}\n\n'
        b'data: {"c":\ndata: 3}\n\n'  # one JSON value over two data lines
        b"data: [DONE]\n\n"
        b'data: {"never": true}\n\n'
    )
    async with RawServer(body) as server:
        assert await collect(http, server.url) == [{"a": 1}, {"b": 2}, {"c": 3}]


async def test_sse_events_split_across_reads(http: UpstreamHTTP) -> None:
    parts = [
        b"da",
        b'ta: {"a"',
        b": 1}\r",
        b"\n\r\n",
        b'data: {"b": "' + b"x" * 100,
        b"y" * 100 + b'"}\n\n',
        b"data: [DO",
        b"NE]\n\n",
    ]
    async with RawServer(parts) as server:
        assert await collect(http, server.url) == [{"a": 1}, {"b": "x" * 100 + "y" * 100}]


async def test_sse_last_line_without_newline(http: UpstreamHTTP) -> None:
    async with RawServer([b'data: {"a": 1}\n\n', b'data: {"b": 2}']) as server:
        assert await collect(http, server.url) == [{"a": 1}, {"b": 2}]


async def test_sse_line_too_long(http: UpstreamHTTP, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("modelsnest.providers.http.MAX_SSE_LINE", 64)
    async with RawServer([b'data: {"a": "', b"x" * 50, b"x" * 50, b'"}\n\n']) as server:
        with pytest.raises(ProviderProtocolError, match="too long"):
            await collect(http, server.url)


async def test_sse_without_done_ends_at_eof(http: UpstreamHTTP) -> None:
    async with RawServer(b'data: {"a": 1}\n\n') as server:
        assert await collect(http, server.url) == [{"a": 1}]


async def test_sse_garbage_is_a_protocol_error(http: UpstreamHTTP) -> None:
    async with RawServer(b"data: not json\n\n") as server:
        with pytest.raises(ProviderProtocolError):
            await collect(http, server.url)


async def test_sse_json_answer_is_a_protocol_error(http: UpstreamHTTP) -> None:
    async with RawServer(b'{"error": {"message": "nope"}}', "application/json") as server:
        with pytest.raises(ProviderProtocolError, match="nope"):
            await collect(http, server.url)


async def test_post_json_non_json_is_a_protocol_error(http: UpstreamHTTP) -> None:
    async with RawServer(b"hello", "text/plain") as server:
        with pytest.raises(ProviderProtocolError):
            await http.post_json(http.url(server.url, "/sse"), b"{}")


@pytest.fixture
def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused(refused_port: int) -> None:
    client = UpstreamHTTP(ProviderConfig(name="t", kind="openai"))
    try:
        with pytest.raises(ProviderConnectError) as info:
            await client.post_json(client.url(f"http://127.0.0.1:{refused_port}", "/x"), b"{}")
        assert info.value.retryable and isinstance(info.value.__cause__, aiohttp.ClientConnectorError)
    finally:
        await client.close()


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A port whose accept queue is full: connects hang (SYNs are dropped)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in [*fillers, server]:
        sock.close()


async def test_connect_timeout(unaccepting_port: int) -> None:
    await asyncio.sleep(0.05)
    client = UpstreamHTTP(ProviderConfig(name="t", kind="openai", connect_timeout=0.2))
    try:
        with pytest.raises(ProviderTimeout, match="connecting"):
            await client.post_json(client.url(f"http://127.0.0.1:{unaccepting_port}", "/x"), b"{}")
    finally:
        await client.close()


async def test_session_is_lazy_pooled_and_closed() -> None:
    client = UpstreamHTTP(ProviderConfig(name="t", kind="openai", extra={"max_connections": 7}))
    assert client._session is None
    session = client.session
    assert client.session is session
    assert session.connector is not None and session.connector.limit == 7
    await client.close()
    assert session.closed and client._session is None
    await client.close()  # idempotent


async def test_downloads_never_carry_our_credentials(openai_upstream: FakeOpenAIUpstream) -> None:
    config = ProviderConfig(name="t", kind="openai", total_timeout=5)
    client = UpstreamHTTP(config, {"Authorization": "Bearer sk-secret"})
    url = openai_upstream.host_file(b"\x89PNG\r\n\x1a\nrest", "image/png", ".png")
    seen: list[str | None] = []

    async def capture(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        raise web.HTTPFound(url)  # redirects are followed

    app = web.Application()
    app.router.add_get("/redirect", capture)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        redirect = f"http://127.0.0.1:{runner.addresses[0][1]}/redirect"
        data, content_type = await client.download(redirect, limit=1000)
        assert (data, content_type) == (b"\x89PNG\r\n\x1a\nrest", "image/png")
        assert seen == [None] and len(openai_upstream.downloads) == 1
        with pytest.raises(ProviderDownloadError, match="limit"):
            await client.download(url, limit=4)
    finally:
        await client.close()
        await runner.cleanup()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "not a url", "http://"])
async def test_downloads_only_over_http(http: UpstreamHTTP, url: str) -> None:
    with pytest.raises(ProviderDownloadError):
        await http.download(url, limit=100)


async def test_binary_answers_are_capped(http: UpstreamHTTP) -> None:
    async with RawServer(b"x" * 5000, "audio/mpeg") as server:
        data, content_type = await http.post_for_bytes(http.url(server.url, "/a"), b"{}", limit=5000)
        assert len(data) == 5000 and content_type == "audio/mpeg"
        with pytest.raises(ProviderProtocolError, match="limit"):
            await http.post_for_bytes(http.url(server.url, "/a"), b"{}", limit=4999)


async def test_get_json(openai_upstream: FakeOpenAIUpstream, http: UpstreamHTTP) -> None:
    answer = await http.get_json(http.url(openai_upstream.url, "/_fake/state"))
    assert answer == {"calls": 0, "disconnects": 0}
