"""The APIs coding agents speak: OpenAI's Responses API (``POST /responses``,
``GET /responses/{id}``), legacy text completions, rerank, and the calling key (``GET /key``).
Shapes follow the ``openai`` SDK's types; the gateway (``gateway.responses_format``,
``gateway.completions``, ``gateway.rerank``) checks what it reads and answers 400 otherwise."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelsnest.api.schemas.chat import sse_event
from modelsnest.api.schemas.common import (
    BEARER,
    IDEMPOTENCY_KEY,
    Billing,
    Money,
    UnitBilling,
    WireModel,
    ok,
    request_body,
    usd,
)
from modelsnest.api.schemas.errors import PAID_ERRORS, ErrorResponse, error_responses
from modelsnest.errors import NotFound


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- Responses -------------------------------------------------------------------------------


class InputItem(Open):
    """A `message` (role, content as text or `input_text` / `input_image` parts), a
    `function_call` (call_id, name, arguments) or a `function_call_output` (call_id, output)."""

    type: Literal["message", "function_call", "function_call_output", "reasoning"] | None = None
    role: Literal["user", "assistant", "system", "developer"] | None = None
    content: str | list[dict[str, Any]] | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | list[dict[str, Any]] | None = None


class FunctionTool(Open):
    type: str = Field(description="`function` (hosted tools are not run behind chat upstreams).")
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ReasoningOptions(Open):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: str | None = None


class CreateResponseRequest(Open):
    """OpenAI's Responses request, served by any chat model."""

    model: str = Field(min_length=1, description="A chat model id from `GET /api/v1/models`.")
    input: str | list[InputItem] = Field(description="A string, or input items.")
    instructions: str | None = Field(None, description="A system prompt for this turn only.")
    tools: list[FunctionTool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = Field(None, ge=1, description="Output cap; the credit hold uses it.")
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    reasoning: ReasoningOptions | None = None
    store: bool | None = Field(
        True, description="Keep the response for retrieval and `previous_response_id`."
    )
    previous_response_id: str | None = Field(None, description="Continue from a stored response of yours.")
    stream: bool | None = Field(False, description="Typed Server-Sent Events.")
    text: dict[str, Any] | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None


class InputTokensDetails(WireModel):
    cached_tokens: int = Field(ge=0)
    cache_write_tokens: int = Field(0, ge=0)


class OutputTokensDetails(WireModel):
    reasoning_tokens: int = Field(ge=0)


class ResponseUsage(WireModel):
    input_tokens: int = Field(ge=0)
    input_tokens_details: InputTokensDetails
    output_tokens: int = Field(ge=0)
    output_tokens_details: OutputTokensDetails
    total_tokens: int = Field(ge=0)
    cost: Money = usd("What this request cost (the same as billing.cost_usd).")


class OutputItem(WireModel):
    """A `message` (assistant, `output_text` parts) or a `function_call`."""

    id: str
    type: Literal["message", "function_call", "reasoning"]
    status: str | None = None
    role: str | None = None
    content: list[dict[str, Any]] | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None


class ResponseObject(WireModel):
    id: str
    object: Literal["response"]
    created_at: int
    status: Literal["completed", "incomplete", "failed", "in_progress"]
    error: dict[str, Any] | None = None
    incomplete_details: dict[str, Any] | None = None
    instructions: str | None = None
    max_output_tokens: int | None = None
    model: str
    output: list[OutputItem]
    parallel_tool_calls: bool
    previous_response_id: str | None = None
    store: bool | None = None
    tool_choice: str | dict[str, Any]
    tools: list[dict[str, Any]]
    usage: ResponseUsage | None = None
    billing: Billing | None = None


class ResponseStreamEvent(WireModel):
    """One typed event: `response.created`, `response.in_progress`,
    `response.output_item.added`, `response.content_part.added`, `response.output_text.delta`,
    `response.output_text.done`, `response.content_part.done`,
    `response.function_call_arguments.delta` / `.done`, `response.output_item.done`, then
    `response.completed` (or `response.incomplete`, `response.failed`) with the whole response,
    its usage and cost."""

    type: str
    sequence_number: int = Field(ge=0)
    response: ResponseObject | None = None


RESPONSE_EXAMPLES: dict[str, dict[str, Any]] = {
    "simple": {"model": "deepseek", "input": "Say hello in five words."},
    "codex_style": {
        "model": "deepseek",
        "instructions": "You are a coding agent.",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "List files"}]}
        ],
        "tools": [
            {
                "type": "function",
                "name": "shell",
                "description": "Run a command",
                "parameters": {"type": "object", "properties": {"command": {"type": "string"}}},
            }
        ],
        "stream": True,
        "store": False,
    },
}

CREATE_RESPONSE: dict[str, Any] = {
    "tags": ["Agents"],
    "responses": {
        200: ok(
            ResponseObject,
            "The response (JSON), or with `stream: true` its typed events (SSE).",
            content={"text/event-stream": {"schema": sse_event(ResponseStreamEvent, ErrorResponse)}},
        ),
        **error_responses(*PAID_ERRORS),
    },
    "openapi_extra": {
        **request_body(CreateResponseRequest, RESPONSE_EXAMPLES),
        "parameters": [IDEMPOTENCY_KEY],
        "security": BEARER,
    },
}

GET_RESPONSE: dict[str, Any] = {
    "tags": ["Agents"],
    "responses": {
        200: ok(ResponseObject, "The stored response.", header_names=("X-Request-Id",)),
        **error_responses(
            401,
            404,
            500,
            examples={
                404: (
                    (
                        "unknown",
                        NotFound(
                            "no response with id 'resp_0'", code="RESPONSE_NOT_FOUND", param="response_id"
                        ),
                    ),
                )
            },
        ),
    },
    "openapi_extra": {"security": BEARER},
}


# -- the calling key -------------------------------------------------------------------------


class KeyRateLimit(WireModel):
    requests: int | None = Field(description="Requests per interval, null: no limit of its own.")
    interval: str
    tokens_per_minute: int | None = None


class KeyData(WireModel):
    label: str
    name: str
    prefix: str
    created_at: str
    expires_at: str | None
    limit: Money | None = usd("The key's spend limit (USD), null: none.")
    limit_remaining: Money | None = usd("What the key may still spend, null: no limit.")
    limit_reset: str | None = None
    usage: Money = usd("Spent with this key in all.")
    usage_daily: Money = usd("Spent today (UTC).")
    usage_weekly: Money = usd("Spent this week (UTC, from Monday).")
    usage_monthly: Money = usd("Spent this month (UTC).")
    is_free_tier: bool
    is_provisioning_key: bool
    rate_limit: KeyRateLimit
    allowed_models: list[str] | None


class KeyInfo(WireModel):
    data: KeyData


KEY: dict[str, Any] = {
    "tags": ["Account"],
    "responses": {
        200: ok(KeyInfo, "The calling key.", header_names=("X-Request-Id",)),
        **error_responses(401, 500),
    },
    "openapi_extra": {"security": BEARER},
}


# -- legacy completions ----------------------------------------------------------------------


class CompletionRequestBody(Open):
    """OpenAI's legacy completions request, served by chat models (the prompt is one user message)."""

    model: str = Field(min_length=1, description="A chat model id from `GET /api/v1/models`.")
    prompt: str | list[str] = Field(description="One prompt: a string, or a list of one string.")
    max_tokens: int | None = Field(None, ge=1, description="Output cap; the credit hold uses it.")
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    n: int | None = Field(None, ge=1, le=10)
    stop: str | list[str] | None = None
    echo: bool | None = Field(None, description="Prepend the prompt to each text.")
    stream: bool | None = False
    stream_options: dict[str, Any] | None = None
    seed: int | None = None
    user: str | None = None


class TextChoice(WireModel):
    text: str
    index: int = Field(ge=0)
    logprobs: dict[str, Any] | None = None
    finish_reason: str | None = None


class CompletionUsage(WireModel):
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)
    cost: Money = usd("What this request cost (the same as billing.cost_usd).")


class TextCompletion(WireModel):
    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[TextChoice]
    usage: CompletionUsage | None = None
    billing: Billing | None = None


COMPLETION_EXAMPLES: dict[str, dict[str, Any]] = {
    "simple": {"model": "deepseek", "prompt": "Once upon a time", "max_tokens": 32},
    "streamed": {
        "model": "deepseek",
        "prompt": "Count to five:",
        "stream": True,
        "stream_options": {"include_usage": True},
    },
}

CREATE_COMPLETION: dict[str, Any] = {
    "tags": ["Chat"],
    "responses": {
        200: ok(
            TextCompletion,
            "The completion (JSON), or with `stream: true` its `text_completion` chunks (SSE).",
            content={"text/event-stream": {"schema": sse_event(TextCompletion, ErrorResponse)}},
        ),
        **error_responses(*PAID_ERRORS),
    },
    "openapi_extra": {
        **request_body(CompletionRequestBody, COMPLETION_EXAMPLES),
        "parameters": [IDEMPOTENCY_KEY],
        "security": BEARER,
    },
}


# -- rerank ----------------------------------------------------------------------------------


class RerankDocument(Open):
    text: str


class RerankRequestBody(Open):
    """Cohere / Jina's rerank request."""

    model: str = Field(min_length=1, description="A rerank model id from `GET /api/v1/models`.")
    query: str = Field(min_length=1)
    documents: list[str | RerankDocument] = Field(min_length=1, max_length=1000)
    top_n: int | None = Field(None, ge=1, description="Return only the best N.")
    return_documents: bool | None = Field(False, description="Include each document's text.")


class RerankResultItem(WireModel):
    index: int = Field(ge=0, description="The document's position in `documents`.")
    relevance_score: float = Field(ge=0, le=1)
    document: RerankDocument | None = None


class RerankUsage(WireModel):
    prompt_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)
    search_units: int = Field(ge=0, description="One per query and up to 100 documents.")
    cost: Money = usd("What this request cost (the same as billing.cost_usd).")


class RerankResponse(WireModel):
    id: str
    object: Literal["rerank"]
    model: str
    results: list[RerankResultItem] = Field(description="Best first.")
    usage: RerankUsage
    billing: UnitBilling


RERANK_EXAMPLES: dict[str, dict[str, Any]] = {
    "simple": {
        "model": "rerank-v3.5",
        "query": "What is the capital of France?",
        "documents": [
            "Paris is the capital of France.",
            "Berlin is in Germany.",
            {"text": "France is in Europe."},
        ],
        "top_n": 2,
        "return_documents": True,
    }
}

RERANK: dict[str, Any] = {
    "tags": ["Embeddings"],
    "responses": {
        200: ok(RerankResponse, "The documents ranked by relevance to the query."),
        **error_responses(*PAID_ERRORS),
    },
    "openapi_extra": {
        **request_body(RerankRequestBody, RERANK_EXAMPLES),
        "parameters": [IDEMPOTENCY_KEY],
        "security": BEARER,
    },
}
