from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from modelsnest.api.deps import GatewayDep, RequestIdDep
from modelsnest.gateway import chat
from modelsnest.gateway.chat_stream import ChatStreamResponse
from modelsnest.gateway.service import Gateway

router = APIRouter()


async def serve_chat(request: Request, gateway: Gateway, request_id: str) -> Response:
    """OpenAI-compatible chat completions, streamed (SSE) or not, billed exactly. Also served,
    ahead of FastAPI, by ``api/fast_lane.py``."""
    principal = await gateway.keys.verify(request.headers.get("authorization"))
    raw = await request.body()
    reply = await chat.complete(gateway, principal, raw, request_id, request.headers.get("idempotency-key"))
    if isinstance(reply, chat.StreamStart):
        return ChatStreamResponse(reply)
    return Response(
        reply.body, status_code=reply.status, media_type="application/json", headers=reply.headers
    )


@router.post("/chat/completions", response_model=None)
async def chat_completions(request: Request, gateway: GatewayDep, request_id: RequestIdDep) -> Response:
    return await serve_chat(request, gateway, request_id)
