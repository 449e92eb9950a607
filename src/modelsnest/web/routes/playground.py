"""``/dashboard/playground``: chat with any active chat model, streamed token by token, as
the signed-in user through the API's own gateway and ledger (``modelsnest.playground``).

    GET  /dashboard/playground[?model=&c=&mode=compare]   the page (a conversation reopened)
    POST /dashboard/playground/stream                     one answer, as SSE (CSRF header)
    GET  /dashboard/playground/receipts/{request_id}      an answer's bill, once settled
    POST /dashboard/playground/conversations/{id}/delete  forget a conversation

The stream is a POST read with ``fetch()`` (EventSource cannot POST); Stop aborts it, the
server sees the disconnect and the gateway bills what was delivered, as for an API client
that hangs up. Another user's conversation or receipt is a 404, like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from modelsnest import playground
from modelsnest.api.sse import MEDIA_TYPE, SseResponse, frame
from modelsnest.errors import ModelsnestError, NotFound
from modelsnest.gateway.streaming import StreamEvent
from modelsnest.web import context as web
from modelsnest.web.deps import RequireUser
from modelsnest.web.errors import PageError, redirect
from modelsnest.web.forms import Form
from modelsnest.web.render import flash, render, with_toast

router = APIRouter(prefix="/dashboard/playground", include_in_schema=False)

PAGE = "pages/dashboard/playground/index.html"
MAX_COMPARE = 3
DEFAULT_MAX_TOKENS = 1024
CONVERSATION_NOT_FOUND = PageError(
    404,
    "Conversation not found",
    "There is no such conversation in your playground. It may have been deleted, or the link is wrong.",
)


@dataclass(frozen=True)
class ChatModel:
    slug: str
    name: str
    vendor: str
    featured: bool


async def _chat_models(request: Request) -> list[ChatModel]:
    directory = await web.services(request).directory.get()
    return [
        ChatModel(m.slug, m.info.name, m.info.vendor, m.featured)
        for m in directory.models
        if m.info.endpoint == "chat" and m.info.status in ("active", "beta") and m.info.pricing is not None
    ]


@router.get("")
async def playground_page(request: Request, user: RequireUser) -> Response:
    services = web.services(request)
    models = await _chat_models(request)
    slugs = [m.slug for m in models]
    conversation: playground.ConversationView | None = None
    messages: list[dict[str, Any]] = []
    raw_id = request.query_params.get("c", "")
    if raw_id:
        try:
            conversation, turns = await playground.get_conversation(
                services.sessions, user.user_id, int(raw_id) if raw_id.isdigit() else -1
            )
        except NotFound as exc:
            raise CONVERSATION_NOT_FOUND from exc
        messages = [
            {"turn": m, "html": playground.render_answer(m.content) if m.role == "assistant" else ""}
            for m in turns
        ]
    wanted = request.query_params.get("model", "")
    selected = (
        conversation.model_slug
        if conversation is not None
        else wanted
        if wanted in slugs
        else next((m.slug for m in models if m.featured), slugs[0] if slugs else "")
    )
    compare = request.query_params.get("mode") == "compare" and conversation is None
    compared = [s for s in request.query_params.getlist("models") if s in slugs][:MAX_COMPARE]
    if compare and len(compared) < 2:
        first = compared[0] if compared else selected
        others = [m.slug for m in models if m.slug != first]
        featured = [m.slug for m in models if m.featured and m.slug != first]
        compared = ([first] if first else []) + (featured or others)[:1]
    values = {
        "models": models,
        "selected": selected,
        "unknown_model": wanted if wanted and wanted not in slugs else "",
        "conversation": conversation,
        "messages": messages,
        "conversations": await playground.list_conversations(services.sessions, user.user_id),
        "compare": compare,
        "compared": compared + [""] * (MAX_COMPARE - len(compared)),
        "default_max_tokens": DEFAULT_MAX_TOKENS,
        "max_message_chars": playground.MAX_MESSAGE_CHARS,
    }
    return await render(request, PAGE, values)


def _error_stream(status: int, message: str, field: str | None = None) -> Response:
    event = StreamEvent({"message": message, "field": field}, event="error")
    return Response(frame(event, "openai"), status_code=status, media_type=MEDIA_TYPE.decode())


@router.post("/stream")
async def stream_answer(request: Request, user: RequireUser) -> Response:
    services = web.services(request)
    form = await Form.read(request)
    try:
        ask = playground.parse_ask(form.values)
    except ModelsnestError as exc:
        return _error_stream(400, exc.message[:1].upper() + exc.message[1:] + ".", exc.param)
    try:
        answer = await playground.start_answer(
            services.gateway,
            services.sessions,
            user_id=user.user_id,
            user_role=user.user.role,
            ask=ask,
            request_id=str(request.scope.get("state", {}).get("request_id") or ""),
        )
    except NotFound:
        return _error_stream(404, "There is no such conversation. Start a new chat.", "conversation_id")
    except ModelsnestError as exc:
        return _error_stream(exc.status, playground.friendly_error(exc, ask.model), exc.param)
    return SseResponse(answer)


@router.get("/receipts/{request_id}")
async def receipt(request: Request, request_id: str, user: RequireUser) -> Response:
    """The bill of an answer once it is settled (202 until then), for a stopped stream."""
    found = await playground.receipt_for(
        web.services(request).sessions, user_id=user.user_id, request_id=request_id[:64]
    )
    if found is None:
        return JSONResponse({"status": "pending"}, status_code=202, headers={"Cache-Control": "no-store"})
    return JSONResponse(found.as_event(), headers={"Cache-Control": "no-store"})


@router.post("/conversations/{conversation_id}/delete")
async def delete(request: Request, conversation_id: int, user: RequireUser) -> Response:
    try:
        await playground.delete_conversation(web.services(request).sessions, user.user_id, conversation_id)
    except NotFound as exc:
        raise CONVERSATION_NOT_FOUND from exc
    message = "Conversation deleted."
    if request.headers.get("hx-request") == "true":
        return with_toast(Response(status_code=200), message)
    flash(request, message)
    return redirect(request, "/dashboard/playground")
