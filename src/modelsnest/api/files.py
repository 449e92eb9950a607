"""Files we generated (images, audio, videos), served by their unguessable id until they expire."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from modelsnest.api.deps import GatewayDep

router = APIRouter()


@router.get("/files/{file_id}", include_in_schema=False)
async def get_file(file_id: str, gateway: GatewayDep) -> FileResponse:
    path, content_type = await gateway.media.open(file_id)
    return FileResponse(path, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})
