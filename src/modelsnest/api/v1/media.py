"""Reading back an asynchronous video job (the paid POSTs are in ``paid.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from modelsnest.api.deps import CallerDep, GatewayDep
from modelsnest.api.public_url import public_base
from modelsnest.api.schemas import video as schemas
from modelsnest.gateway import video

router = APIRouter()


@router.get(
    "/video/generations/{job_id}", operation_id="get_video", summary="Get a video job", **schemas.GET_JOB
)
async def get_video(job_id: str, request: Request, caller: CallerDep, gateway: GatewayDep) -> Response:
    """A video job of the key's owner: its state, and once it succeeded the video's link and billing."""
    body = await video.get_job(gateway, caller, job_id, public_base(request))
    return Response(body, media_type="application/json")
