"""``POST /api/v1/messages`` and ``/messages/count_tokens``: Anthropic's Messages API (the
shapes of the ``anthropic`` SDK's ``types``), with our ``billing`` object and ``usage.cost``.
Errors on these paths are Anthropic's ``{"type": "error", "error": {"type", "message"}}``,
rendered (for the examples too) by ``api.errors.error_body`` with the ``anthropic`` shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelsnest.api.errors import error_body
from modelsnest.api.schemas.common import (
    BEARER,
    IDEMPOTENCY_KEY,
    Billing,
    Money,
    WireModel,
    component,
    headers,
    ok,
    request_body,
)
from modelsnest.api.schemas.errors import _DESCRIPTIONS
from modelsnest.api.schemas.errors import EXAMPLES as OPENAI_EXAMPLES
from modelsnest.errors import UpstreamOverloaded

ANTHROPIC_ERROR_TYPES = [
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "timeout_error",
    "api_error",
    "overloaded_error",
]


class AnthropicOpen(BaseModel):
    model_config = ConfigDict(extra="allow")


class AnthropicContentBlock(AnthropicOpen):
    """A content block: `text`, `image` (`base64` or `url` source), `document`, `tool_use`,
    `tool_result`, `thinking` (with its `signature`), `redacted_thinking`."""

    type: str = Field(min_length=1)


class AnthropicInputMessage(AnthropicOpen):
    role: Literal["user", "assistant"]
    content: str | list[AnthropicContentBlock]


class AnthropicTextBlock(AnthropicOpen):
    type: Literal["text"]
    text: str


class AnthropicTool(AnthropicOpen):
    name: str = Field(min_length=1)
    description: str | None = None
    input_schema: dict[str, Any] | None = Field(None, description="A JSON Schema of the tool's input.")


class AnthropicMessageRequest(AnthropicOpen):
    """Anthropic's request. Fields not listed go to an Anthropic upstream as sent."""

    model: str = Field(min_length=1, description="A chat model id from `GET /api/v1/models`.")
    max_tokens: int = Field(ge=1, description="Output cap; the credit hold is computed from it.")
    messages: list[AnthropicInputMessage] = Field(min_length=1)
    system: str | list[AnthropicTextBlock] | None = None
    stream: bool | None = Field(None, description="Answer as Anthropic's Server-Sent Events.")
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(None, ge=0, le=1)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=0)
    tools: list[AnthropicTool] | None = None
    tool_choice: dict[str, Any] | None = Field(None, description="`{type: auto|any|tool|none}`.")
    metadata: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None


class AnthropicCountTokensRequest(AnthropicOpen):
    model: str = Field(min_length=1)
    messages: list[AnthropicInputMessage] = Field(min_length=1)
    system: str | list[AnthropicTextBlock] | None = None
    tools: list[AnthropicTool] | None = None


class AnthropicUsage(WireModel):
    input_tokens: int = Field(ge=0, description="Input tokens other than cache reads and writes.")
    output_tokens: int = Field(ge=0)
    cache_creation_input_tokens: int | None = Field(None, ge=0)
    cache_read_input_tokens: int | None = Field(None, ge=0)
    cost: Money | None = None


class AnthropicMessage(WireModel):
    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str = Field(description="The model id that was asked for.")
    content: list[dict[str, Any]]
    stop_reason: str | None = Field(description="end_turn, max_tokens, stop_sequence, tool_use, …")
    stop_sequence: str | None = None
    usage: AnthropicUsage
    billing: Billing


class AnthropicTokensCount(WireModel):
    input_tokens: int = Field(ge=0)


class AnthropicStreamEvent(WireModel):
    """One event: `message_start`, `content_block_start`/`_delta`/`_stop`, `ping`,
    `message_delta` (stop reason, the whole usage, its cost and billing), `message_stop`, or
    `error`."""

    type: str


class AnthropicErrorObject(BaseModel):
    type: str = Field(json_schema_extra={"enum": list(ANTHROPIC_ERROR_TYPES)})
    message: str


class AnthropicErrorResponse(BaseModel):
    """Anthropic's error shape. No error ever costs credits."""

    type: Literal["error"]
    error: AnthropicErrorObject


# Anthropic's own status: every provider overloaded (its 529 ``overloaded_error``).
_ANTHROPIC_DESCRIPTIONS = {
    529: "The providers of the model are overloaded (or resting after failures): retry shortly; "
    "nothing was charged. Anthropic's SDKs retry it.",
}
_EXAMPLES: dict[int, Sequence[tuple[str, BaseException]]] = {
    529: (("overloaded", UpstreamOverloaded("all 2 route(s) failed; last: ProviderServerError (HTTP 529)")),),
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        names = ("X-Request-Id", "Retry-After") if status == 429 else ("X-Request-Id",)
        examples: Sequence[tuple[str, BaseException]] = {**OPENAI_EXAMPLES, **_EXAMPLES}[status]
        responses[status] = {
            "model": AnthropicErrorResponse,
            "description": {**_DESCRIPTIONS, **_ANTHROPIC_DESCRIPTIONS}[status],
            "headers": headers(*names),
            "content": {
                "application/json": {
                    "examples": {name: {"value": error_body(exc, "anthropic").body} for name, exc in examples}
                }
            },
        }
    return responses


_STREAM = {
    "text/event-stream": {
        "schema": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "event": {"type": "string"},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": component(AnthropicStreamEvent),
                },
            },
            "description": "`event: <type>` + `data: {json}` events, Anthropic's sequence.",
        }
    }
}

API_KEY_HEADER: dict[str, Any] = {
    "name": "x-api-key",
    "in": "header",
    "required": False,
    "description": "The API key (`ptr_…`), as Anthropic's clients send it; or `Authorization: Bearer`.",
    "schema": {"type": "string"},
}
VERSION_HEADER: dict[str, Any] = {
    "name": "anthropic-version",
    "in": "header",
    "required": False,
    "description": "Accepted whatever its value (the SDKs send `2023-06-01`).",
    "schema": {"type": "string"},
}
BETA_HEADER: dict[str, Any] = {
    "name": "anthropic-beta",
    "in": "header",
    "required": False,
    "description": "Beta flags: sent on to an Anthropic upstream, ignored by others; never an error.",
    "schema": {"type": "string"},
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "hello": {
        "model": "claude-sonnet-4",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "Hello, Claude"}],
    },
    "system_and_stream": {
        "model": "claude-sonnet-4",
        "max_tokens": 256,
        "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Name a colour."}],
        "stream": True,
    },
}

PAID = (400, 401, 402, 403, 409, 413, 429, 500, 502, 504, 529)

MESSAGES: dict[str, Any] = {
    "tags": ["Anthropic"],
    "responses": {
        200: ok(AnthropicMessage, "The message, or its event stream.", content=_STREAM),
        **_errors(*PAID),
    },
    "openapi_extra": {
        **request_body(AnthropicMessageRequest, EXAMPLES),
        "parameters": [IDEMPOTENCY_KEY, API_KEY_HEADER, VERSION_HEADER, BETA_HEADER],
        "security": BEARER,
    },
}

COUNT_TOKENS: dict[str, Any] = {
    "tags": ["Anthropic"],
    "responses": {
        200: ok(AnthropicTokensCount, "The prompt's input tokens (free).", header_names=("X-Request-Id",)),
        **_errors(400, 401, 403, 413, 500),
    },
    "openapi_extra": {
        **request_body(
            AnthropicCountTokensRequest,
            {"hello": {"model": "claude-sonnet-4", "messages": [{"role": "user", "content": "Hello"}]}},
        ),
        "parameters": [API_KEY_HEADER, VERSION_HEADER, BETA_HEADER],
        "security": BEARER,
    },
}
