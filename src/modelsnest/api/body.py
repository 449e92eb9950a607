"""Request bodies read with a cap, as they stream in: a body over its route's limit is
refused with 413 before it is held in memory (and before anything is charged)."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Receive

from modelsnest.errors import InvalidRequest, PayloadTooLarge
from modelsnest.gateway.pipeline import Upload
from modelsnest.media import check_upload_size

# Multipart framing around a file adds a little; anything far beyond the limit is refused unread.
MULTIPART_SLACK = 64 * 1024


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than this endpoint's limit of {limit} bytes.")


def _check_declared(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)


def capped(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises ``PayloadTooLarge`` once more than ``limit`` body bytes arrived."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large(limit)
        return message

    return wrapped


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, read from ``receive`` as ``Request.stream`` reads it but without its
    async generator (every paid request passes here)."""
    _check_declared(request, limit)
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        if message["type"] != "http.request":
            continue
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_form(request: Request, file_limit: int) -> tuple[dict[str, str], Upload | None]:
    """Fields and the one ``file`` of a multipart upload of at most ``file_limit`` bytes."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidRequest("send the audio as multipart/form-data with a 'file' field", param="file")
    limit = file_limit + MULTIPART_SLACK
    _check_declared(request, limit)
    capped_request = Request(request.scope, capped(request.receive, limit))
    async with capped_request.form(max_files=1, max_fields=20) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return fields, None
        data = await upload.read(file_limit + 1)
        check_upload_size(len(data), file_limit)
        return fields, Upload(data, upload.filename or "", upload.content_type or "")
