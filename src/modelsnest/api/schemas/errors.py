"""The one error body, and the error responses an operation declares.

Examples are rendered by the real renderer (``api.errors.error_body``) from the domain
errors the code raises, so the document shows exactly what a client reads (5xx messages
generic, as sent)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field, JsonValue

from modelsnest.api.errors import error_body
from modelsnest.api.schemas.common import headers
from modelsnest.auth.key_verifier import INVALID_TOKEN_MESSAGE, MISSING_AUTH_MESSAGE
from modelsnest.errors import (
    ERROR_KINDS,
    AuthError,
    Conflict,
    InsufficientCredits,
    InvalidRequest,
    ModelError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    PricingError,
    RateLimited,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UsageTransactionFailed,
)

ERROR_TYPES = list[JsonValue](sorted({kind.type for kind in ERROR_KINDS.values()}))


class ErrorObject(BaseModel):
    message: str = Field(description="What went wrong; for a 5xx, a generic text (details are in our logs).")
    type: str = Field(description="OpenAI's error type.", json_schema_extra={"enum": ERROR_TYPES})
    code: str = Field(
        description="A stable machine-readable code, e.g. MISSING_MODEL or INSUFFICIENT_CREDITS."
    )
    param: str | None = Field(description="The request field at fault, when there is one.")


class ErrorResponse(BaseModel):
    """Every error, whatever the status: OpenAI's shape. No error ever costs credits."""

    error: ErrorObject


_DESCRIPTIONS = {
    400: "The request is malformed, names an unknown or unavailable model, or the model rejected it.",
    401: "No API key, or one that is unknown, revoked, expired or whose account is disabled.",
    402: "The balance cannot cover the most this request may cost.",
    403: "This API key may not use the model.",
    404: "Not found (or not yours).",
    405: "This method is not accepted here.",
    409: "The Idempotency-Key was used with another body, or its first request is still running.",
    413: "The body (or uploaded file) is larger than this endpoint's limit; nothing was charged.",
    429: "A rate, concurrency or spend limit was reached: retry after `Retry-After` seconds.",
    500: "Our side failed (price misconfigured, usage not recorded, a bug); nothing was charged.",
    502: "Every provider for the model failed; nothing was charged.",
    504: "The provider did not answer in time; nothing was charged.",
}

# status → (example name, the error the code raises)
EXAMPLES: dict[int, Sequence[tuple[str, BaseException]]] = {
    400: (
        (
            "missing_model",
            InvalidRequest("you must provide a model parameter", code="MISSING_MODEL", param="model"),
        ),
        (
            "model_not_found",
            ModelError(
                "model 'no-such-model' does not exist; GET /api/v1/models lists the available models",
                code="MODEL_NOT_FOUND",
                param="model",
            ),
        ),
        (
            "model_rejected",
            UpstreamRejected(
                "the model rejected the request: This model's maximum context length is 8192 tokens."
            ),
        ),
    ),
    401: (
        ("missing_key", AuthError(MISSING_AUTH_MESSAGE, code="MISSING_AUTH_HEADER")),
        ("invalid_key", AuthError(INVALID_TOKEN_MESSAGE, code="INVALID_TOKEN")),
    ),
    402: (
        (
            "insufficient_credits",
            InsufficientCredits(
                "insufficient credits: this request may cost up to $0.004096 but $0.00 is available"
            ),
        ),
    ),
    403: (
        (
            "model_not_allowed",
            PermissionDenied("this API key may not use model 'deepseek'", code="MODEL_NOT_ALLOWED"),
        ),
    ),
    404: (("not_found", NotFound("no generation with id 'req_0' for this account", param="id")),),
    409: (
        (
            "key_reused",
            Conflict(
                "this Idempotency-Key was already used with a different request body",
                code="IDEMPOTENCY_KEY_REUSED",
                param="Idempotency-Key",
            ),
        ),
        (
            "key_in_use",
            Conflict(
                "a request with this Idempotency-Key is still in progress",
                code="IDEMPOTENCY_KEY_IN_USE",
                param="Idempotency-Key",
            ),
        ),
    ),
    413: (
        (
            "too_large",
            PayloadTooLarge("The request body is larger than this endpoint's limit of 16777216 bytes."),
        ),
    ),
    429: (
        (
            "rate_limited",
            RateLimited("rate limit of 60 requests per minute reached for this key", retry_after=12),
        ),
    ),
    500: (
        ("pricing_missing", PricingError("price missing", code="PRICING_MISSING")),
        ("usage_not_recorded", UsageTransactionFailed("settlement failed")),
        ("internal", RuntimeError("a bug")),
    ),
    502: (("upstream_failed", UpstreamError("all 1 route(s) failed")),),
    504: (("upstream_timeout", UpstreamTimeout("all 1 route(s) failed; last: timeout")),),
}


def example_body(error: BaseException) -> dict[str, Any]:
    return error_body(error).body


def error_responses(
    *statuses: int, examples: Mapping[int, Sequence[tuple[str, BaseException]]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """``responses`` entries for these error statuses, with the error model, examples rendered
    from real domain errors (``examples`` replaces a status's defaults) and their headers."""
    chosen = {**EXAMPLES, **(examples or {})}
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        names = ("X-Request-Id", "Retry-After") if status == 429 else ("X-Request-Id",)
        responses[status] = {
            "model": ErrorResponse,
            "description": _DESCRIPTIONS[status],
            "headers": headers(*names),
            "content": {
                "application/json": {
                    "examples": {name: {"value": example_body(error)} for name, error in chosen[status]}
                }
            },
        }
    return responses


# What a paid POST can answer besides its success.
PAID_ERRORS = (400, 401, 402, 403, 409, 413, 429, 500, 502, 504)

__all__ = ["ERROR_TYPES", "PAID_ERRORS", "ErrorObject", "ErrorResponse", "error_responses", "example_body"]
