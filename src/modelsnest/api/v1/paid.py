"""The paid POSTs of ``/api/v1``: one handler shape for every modality (read the body with
its cap, authenticate, hand it to the pipeline, write the reply or drive the stream)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from modelsnest.api.body import read_body, read_form
from modelsnest.api.deps import api_caller
from modelsnest.api.errors import Shape
from modelsnest.api.lane import Handler, LaneRoute
from modelsnest.api.public_url import public_base
from modelsnest.api.schemas import agents, anthropic, audio, chat, embeddings, images, video
from modelsnest.api.sse import SseResponse
from modelsnest.api.v1 import messages
from modelsnest.gateway import pipeline
from modelsnest.gateway.chat import CHAT
from modelsnest.gateway.completions import COMPLETIONS
from modelsnest.gateway.embeddings import EMBEDDINGS
from modelsnest.gateway.images import IMAGES
from modelsnest.gateway.rerank import RERANK
from modelsnest.gateway.responses import RESPONSES
from modelsnest.gateway.speech import SPEECH, TEXT_TO_SPEECH
from modelsnest.gateway.streaming import BilledStream
from modelsnest.gateway.transcription import TRANSCRIPTION
from modelsnest.gateway.video import VIDEO
from modelsnest.services import Services

Reader = Callable[[Request, Services], Awaitable[pipeline.Incoming]]


async def json_body(request: Request, services: Services) -> pipeline.Incoming:
    return pipeline.Incoming(
        body=await read_body(request, services.settings.max_json_body_bytes),
        public_base=public_base(request),
        idempotency_key=request.headers.get("idempotency-key"),
    )


async def multipart_body(request: Request, services: Services) -> pipeline.Incoming:
    fields, upload = await read_form(request, services.settings.max_upload_bytes)
    return pipeline.Incoming(
        fields=fields,
        upload=upload,
        public_base=public_base(request),
        idempotency_key=request.headers.get("idempotency-key"),
    )


def reply_response(answer: Any, shape: Shape = "openai") -> Response:
    if isinstance(answer, BilledStream):
        return SseResponse(answer, shape)
    reply: pipeline.Reply = answer
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=reply.headers)


def paid(modality: pipeline.Modality[Any, Any], reader: Reader = json_body) -> Handler:
    async def handle(request: Request, services: Services, request_id: str) -> Response:
        caller = await api_caller(request)  # 401 before a byte of the body is read
        incoming = await reader(request, services)
        answer = await pipeline.serve(services.gateway, caller, modality, incoming, request_id)
        return reply_response(answer)

    return handle


ROUTES: tuple[LaneRoute, ...] = (
    LaneRoute(
        "POST",
        "/chat/completions",
        paid(CHAT),
        "chat_completions",
        "Create a chat completion",
        "OpenAI-compatible chat completions, streamed (SSE) or not, billed per token.",
        openapi=chat.OPENAPI,
    ),
    LaneRoute(
        "POST",
        "/embeddings",
        paid(EMBEDDINGS),
        "create_embeddings",
        "Create embeddings",
        "Billed per 1K input tokens.",
        openapi=embeddings.OPENAPI,
    ),
    LaneRoute(
        "POST",
        "/images/generations",
        paid(IMAGES),
        "generate_images",
        "Generate images",
        "Billed per image returned.",
        openapi=images.OPENAPI,
    ),
    LaneRoute(
        "POST",
        "/images/generate",
        paid(IMAGES),
        "generate_images_alias",
        "Generate images (alias of /images/generations)",
        openapi=images.OPENAPI,
    ),
    LaneRoute(
        "POST",
        "/audio/transcriptions",
        paid(TRANSCRIPTION, multipart_body),
        "create_transcription",
        "Transcribe audio",
        "Multipart upload; billed per second of audio measured from the file itself.",
        openapi=audio.TRANSCRIPTION,
    ),
    LaneRoute(
        "POST",
        "/audio/speech",
        paid(SPEECH),
        "create_speech",
        "Text to speech (audio bytes)",
        "Billed per character of input, counted on the server.",
        openapi=audio.SPEECH,
    ),
    LaneRoute(
        "POST",
        "/text-to-speech",
        paid(TEXT_TO_SPEECH),
        "text_to_speech",
        "Text to speech (JSON acknowledgment with the audio)",
        openapi=audio.TEXT_TO_SPEECH,
    ),
    LaneRoute(
        "POST",
        "/video/generations",
        paid(VIDEO),
        "submit_video",
        "Submit a video generation job",
        "Asynchronous: answers 202 with a job id; billed per second of video when it succeeds.",
        status_code=202,
        openapi=video.SUBMIT,
    ),
    LaneRoute(
        "POST",
        "/messages",
        messages.create_message,
        "create_message",
        "Create a message (Anthropic Messages API)",
        "Anthropic's Messages API for Claude Code and the anthropic SDKs (`x-api-key` or a bearer "
        "key), streamed (SSE) or not, billed per token like chat; errors in Anthropic's shape.",
        openapi=anthropic.MESSAGES,
    ),
    LaneRoute(
        "POST",
        "/responses",
        paid(RESPONSES),
        "create_response",
        "Create a response (OpenAI Responses API)",
        "What Codex CLI and `client.responses` speak; served by any chat model, billed per token as chat.",
        openapi=agents.CREATE_RESPONSE,
    ),
    LaneRoute(
        "POST",
        "/completions",
        paid(COMPLETIONS),
        "create_completion",
        "Create a text completion (legacy)",
        "OpenAI's legacy completions, served by chat models; billed per token as chat.",
        openapi=agents.CREATE_COMPLETION,
    ),
    LaneRoute(
        "POST",
        "/rerank",
        paid(RERANK),
        "rerank",
        "Rerank documents",
        "Cohere/Jina-compatible; billed per search (a query and up to 100 documents) or per 1K tokens read.",
        openapi=agents.RERANK,
    ),
)
