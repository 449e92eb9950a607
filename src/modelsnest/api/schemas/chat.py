"""``POST /api/v1/chat/completions``: OpenAI's request and answers, streamed or not, with our
``billing`` object and ``usage.cost``. The gateway checks what ``gateway.chat_request`` reads
(model, messages and their roles, stream, stream_options, n, the token caps) and passes the
whole body, unknown fields included, to the model's provider."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelsnest.api.schemas.common import (
    BEARER,
    IDEMPOTENCY_KEY,
    Billing,
    Money,
    WireModel,
    component,
    ok,
    request_body,
    usd,
)
from modelsnest.api.schemas.errors import PAID_ERRORS, ErrorResponse, error_responses
from modelsnest.gateway.chat_request import MAX_N

# The roles ``gateway.chat_request.ROLES`` accepts (a test holds them equal).
Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ContentPart(Open):
    """A part of a multimodal message (`text`, `image_url`, `input_audio` …)."""

    type: str
    text: str | None = None


class FunctionCall(Open):
    name: str
    arguments: str = Field(description="The arguments, as JSON text.")


class ToolCall(Open):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(Open):
    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class FunctionDefinition(Open):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = Field(None, description="A JSON Schema of the arguments.")


class Tool(Open):
    type: Literal["function"] = "function"
    function: FunctionDefinition


class StreamOptions(Open):
    include_usage: bool | None = Field(
        None, description="Send a last chunk with the whole request's usage, cost and billing."
    )


class JsonSchemaFormat(Open):
    name: str
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class ResponseFormat(Open):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class ChatCompletionRequest(Open):
    """OpenAI's chat completion request. Fields not listed are passed to the provider as sent."""

    model: str = Field(min_length=1, description="A model id from `GET /api/v1/models`.")
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool | None = Field(False, description="Answer as Server-Sent Events (`text/event-stream`).")
    stream_options: StreamOptions | None = None
    n: int | None = Field(None, ge=1, le=MAX_N, description="How many choices to generate.")
    max_completion_tokens: int | None = Field(
        None, ge=1, description="Output cap; the credit hold is computed from it (else from the model's cap)."
    )
    max_tokens: int | None = Field(None, ge=1, description="Older name of max_completion_tokens.")
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    stop: str | list[str] | None = None
    seed: int | None = None
    tools: list[Tool] | None = None
    tool_choice: str | dict[str, Any] | None = Field(
        None, description='"none", "auto", "required" or a choice.'
    )
    response_format: ResponseFormat | None = None
    user: str | None = None


class ChatUsage(WireModel):
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)
    cost: Money = usd("What this request cost (the same as billing.cost_usd).")


class AssistantMessage(WireModel):
    role: Literal["assistant"]
    content: str | None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None


class ChatChoice(WireModel):
    index: int = Field(ge=0)
    message: AssistantMessage
    finish_reason: str | None = Field(description="stop, length, tool_calls or content_filter.")
    logprobs: dict[str, Any] | None = None


class ChatCompletion(WireModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str = Field(description="The model that answered, as its provider names it.")
    choices: list[ChatChoice]
    usage: ChatUsage
    billing: Billing
    system_fingerprint: str | None = None


class ChunkDelta(WireModel):
    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class ChunkChoice(WireModel):
    index: int = Field(ge=0)
    delta: ChunkDelta
    finish_reason: str | None = None
    logprobs: dict[str, Any] | None = None


class ChatCompletionChunk(WireModel):
    """One event of a stream. The last one before `[DONE]` (asked with
    `stream_options.include_usage`) has no choices and carries usage, cost and billing."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: ChatUsage | None = None
    billing: Billing | None = None
    system_fingerprint: str | None = None


def sse_event(*payloads: type[BaseModel]) -> dict[str, Any]:
    """One Server-Sent Event of a stream (OpenAPI 3.1 has no stream keyword: this ``schema``
    describes each event, ``data`` being JSON of one of ``payloads`` or the text ``[DONE]``)."""
    return {
        "type": "object",
        "required": ["data"],
        "properties": {
            "event": {"type": "string"},
            "data": {
                "anyOf": [
                    {"const": "[DONE]", "description": "The stream's end."},
                    {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": {"anyOf": [component(model) for model in payloads]},
                    },
                ]
            },
        },
        "description": (
            "`data: {json}` events, then `data: [DONE]`. An error after the stream started is an "
            "event with an `error` object; you pay only for what was delivered."
        ),
    }


EXAMPLES: dict[str, dict[str, Any]] = {
    "simple": {"model": "deepseek", "messages": [{"role": "user", "content": "Say hello in five words."}]},
    "streamed_with_usage": {
        "model": "deepseek",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Name three primes."},
        ],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 64,
    },
}

OPENAPI: dict[str, Any] = {
    "tags": ["Chat"],
    "responses": {
        200: ok(
            ChatCompletion,
            "The completion (JSON), or with `stream: true` a stream of chunks (SSE).",
            content={"text/event-stream": {"schema": sse_event(ChatCompletionChunk, ErrorResponse)}},
        ),
        **error_responses(*PAID_ERRORS),
    },
    "openapi_extra": {
        **request_body(ChatCompletionRequest, EXAMPLES),
        "parameters": [IDEMPOTENCY_KEY],
        "security": BEARER,
    },
}
