"""Embeddings, images, speech-to-text, text-to-speech and video: thin routes over the gateway."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from modelsnest.api.deps import ApiKeyDep, GatewayDep, RequestIdDep
from modelsnest.api.public_url import public_base
from modelsnest.errors import InvalidRequest
from modelsnest.gateway import embeddings, images, speech, transcription, video
from modelsnest.gateway.service import Gateway
from modelsnest.media import check_upload_size

router = APIRouter()
JSON = "application/json"
# Multipart framing around a file adds a little; anything far beyond the limit is refused unread.
_MULTIPART_SLACK = 64 * 1024


async def serve_embeddings(request: Request, gateway: Gateway, request_id: str) -> Response:
    """Also served, ahead of FastAPI, by ``api/fast_lane.py``."""
    principal = await gateway.keys.verify(request.headers.get("authorization"))
    body, headers = await embeddings.create_embeddings(gateway, principal, await request.body(), request_id)
    return Response(body, media_type=JSON, headers=headers)


@router.post("/embeddings")
async def create_embeddings(request: Request, gateway: GatewayDep, rid: RequestIdDep) -> Response:
    return await serve_embeddings(request, gateway, rid)


@router.post("/images/generations")
@router.post("/images/generate")
async def generate_images(
    request: Request, principal: ApiKeyDep, gateway: GatewayDep, rid: RequestIdDep
) -> Response:
    body, headers = await images.generate_images(
        gateway, principal, await request.body(), rid, public_base(request)
    )
    return Response(body, media_type=JSON, headers=headers)


@router.post("/audio/transcriptions")
async def transcribe(
    request: Request, principal: ApiKeyDep, gateway: GatewayDep, rid: RequestIdDep
) -> Response:
    limit = gateway.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit():
        check_upload_size(max(0, int(declared) - _MULTIPART_SLACK), limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidRequest("send the audio as multipart/form-data with a 'file' field", param="file")
    async with request.form(max_files=1, max_fields=20) as form:
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        upload = form.get("file")
        file: transcription.Upload | None = None
        if isinstance(upload, UploadFile):
            data = await upload.read(limit + 1)
            check_upload_size(len(data), limit)
            file = transcription.Upload(data, upload.filename or "", upload.content_type or "")
    result = await transcription.transcribe(gateway, principal, fields, file, rid)
    return Response(result.body, media_type=result.media_type, headers=result.headers)


@router.post("/audio/speech")
async def create_speech(
    request: Request, principal: ApiKeyDep, gateway: GatewayDep, rid: RequestIdDep
) -> Response:
    result = await speech.synthesize(gateway, principal, await request.body(), rid)
    return Response(result.audio, media_type=result.content_type, headers=result.headers)


@router.post("/text-to-speech")
async def text_to_speech(
    request: Request, principal: ApiKeyDep, gateway: GatewayDep, rid: RequestIdDep
) -> Response:
    body, headers = await speech.text_to_speech_ack(
        gateway, principal, await request.body(), rid, public_base(request)
    )
    return Response(body, media_type=JSON, headers=headers)


@router.post("/video/generations", status_code=202)
async def submit_video(
    request: Request, principal: ApiKeyDep, gateway: GatewayDep, rid: RequestIdDep
) -> Response:
    body, headers = await video.submit(gateway, principal, await request.body(), rid)
    return Response(body, status_code=202, media_type=JSON, headers=headers)


@router.get("/video/generations/{job_id}")
async def get_video(job_id: str, request: Request, principal: ApiKeyDep, gateway: GatewayDep) -> Response:
    return Response(await video.get_job(gateway, principal, job_id, public_base(request)), media_type=JSON)
