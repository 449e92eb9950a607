from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from modelsnest.api.deps import ApiKeyDep, GatewayDep, RequestIdDep
from modelsnest.gateway import chat
from modelsnest.gateway.chat_stream import ChatStreamResponse

router = APIRouter()


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    request: Request, principal: ApiKeyDep, gateway: GatewayDep, request_id: RequestIdDep
) -> Response:
    """OpenAI-compatible chat completions, streamed (SSE) or not, billed exactly."""
    raw = await request.body()
    reply = await chat.complete(gateway, principal, raw, request_id, request.headers.get("idempotency-key"))
    if isinstance(reply, chat.StreamStart):
        return ChatStreamResponse(reply)
    return Response(
        reply.body, status_code=reply.status, media_type="application/json", headers=reply.headers
    )
