"""Server-Sent Events for a billed stream: the ASGI side of ``gateway.streaming``.

Frames each event as ``event: …`` (when named) and ``data: …`` lines, renders error events
with the one error renderer in the called API's shape, and tells the stream when the client
has gone (``http.disconnect``). Everything about billing stays in the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from modelsnest.api.errors import Shape, stream_error_data
from modelsnest.exact_json import dumps
from modelsnest.gateway.streaming import BilledStream, StreamEvent

MEDIA_TYPE = b"text/event-stream; charset=utf-8"


def frame(event: StreamEvent, shape: Shape) -> bytes:
    data = stream_error_data(event.error, shape) if event.error is not None else event.data
    payload = data.encode() if isinstance(data, str) else dumps(data)
    head = b"event: " + event.event.encode() + b"\n" if event.event else b""
    return head + b"data: " + payload + b"\n\n"


class _AsgiSink:
    def __init__(self, receive: Receive, send: Send, shape: Shape) -> None:
        self._receive = receive
        self._send = send
        self._shape = shape
        self.disconnected = asyncio.Event()

    async def send(self, events: Sequence[StreamEvent], *, last: bool = False) -> None:
        if len(events) == 1:  # nearly every write: one chunk
            body = frame(events[0], self._shape)
        else:
            body = b"".join([frame(event, self._shape) for event in events])
        await self._send({"type": "http.response.body", "body": body, "more_body": not last})

    async def closed(self) -> None:
        while True:
            message: Message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected.set()
                return


class SseResponse(Response):
    """The ASGI response for ``stream: true``; it drives one ``BilledStream``. (A Starlette
    ``Response`` only so that FastAPI passes it through untouched.)"""

    def __init__(self, stream: BilledStream, shape: Shape = "openai") -> None:
        super().__init__(status_code=200)
        self.stream = stream
        self.shape = shape

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sink = _AsgiSink(receive, send, self.shape)
        headers = [
            (b"content-type", MEDIA_TYPE),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
            *((name.lower().encode(), value.encode()) for name, value in self.stream.headers.items()),
        ]
        try:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
        except OSError:
            sink.disconnected.set()
        await self.stream.run(sink)
