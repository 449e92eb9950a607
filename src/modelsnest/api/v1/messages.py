"""Anthropic's Messages API (``POST /api/v1/messages`` and ``/messages/count_tokens``), so that
Claude Code (``ANTHROPIC_BASE_URL=http://HOST/api``) and the ``anthropic`` SDK work unchanged.

The key comes as ``x-api-key`` (what Anthropic's clients send) or ``Authorization: Bearer``;
``anthropic-version`` is accepted whatever its value; ``anthropic-beta`` flags are handed on to
an Anthropic upstream and ignored by every other. Errors on these paths take Anthropic's shape
(``api/errors.py``: ``shape_for_path``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from modelsnest.api.body import read_body
from modelsnest.api.lane import LaneRoute, add_to_router
from modelsnest.api.public_url import public_base
from modelsnest.api.schemas import anthropic
from modelsnest.api.sse import SseResponse
from modelsnest.auth.caller import Caller
from modelsnest.exact_json import dumps
from modelsnest.gateway import messages, pipeline
from modelsnest.gateway.streaming import BilledStream
from modelsnest.services import Services


async def messages_caller(request: Request, services: Services) -> Caller:
    """The owner of the key in ``x-api-key`` (Anthropic's clients) or ``Authorization: Bearer``
    (``ANTHROPIC_AUTH_TOKEN``); a ``ptr_`` key in ``x-api-key`` wins when both are sent."""
    key = (request.headers.get("x-api-key") or "").strip()
    authorization = request.headers.get("authorization")
    principal = await services.keys.verify(
        key if key.startswith("ptr_") or not authorization else authorization
    )
    return Caller.from_key(principal)


async def create_message(request: Request, services: Services, request_id: str) -> Response:
    caller = await messages_caller(request, services)  # 401 before a byte of the body is read
    incoming = pipeline.Incoming(
        body=await read_body(request, services.settings.max_json_body_bytes),
        public_base=public_base(request),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    modality = messages.MessagesModality(request.headers.get("anthropic-beta"))
    answer = await pipeline.serve(services.gateway, caller, modality, incoming, request_id)
    if isinstance(answer, BilledStream):
        return SseResponse(answer, "anthropic")
    reply: pipeline.Reply = answer
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=reply.headers)


async def count_tokens(request: Request, services: Services, request_id: str) -> Response:
    caller = await messages_caller(request, services)
    raw = await read_body(request, services.settings.max_json_body_bytes)
    counted = await messages.count_tokens(services.gateway, caller, raw)
    return Response(dumps(counted), media_type="application/json")


# Free, so not among the paid lane routes (``paid.ROUTES`` has ``/messages``): served by FastAPI.
router = APIRouter()
add_to_router(
    router,
    (
        LaneRoute(
            "POST",
            "/messages/count_tokens",
            count_tokens,
            "count_message_tokens",
            "Count the tokens of a message (free)",
            "The prompt's input tokens as the gateway estimates them for its credit hold; no charge.",
            openapi=anthropic.COUNT_TOKENS,
        ),
    ),
)
