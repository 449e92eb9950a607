"""The key owner's own account: ``GET /api/v1/credits``, ``/usage`` and ``/generation?id=``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from modelsnest.api.schemas.common import BEARER, Money, WireModel, ok, usd
from modelsnest.api.schemas.errors import error_responses
from modelsnest.errors import InvalidRequest, NotFound


class Credits(WireModel):
    object: Literal["credits"]
    currency: Literal["USD"]
    balance: Money = usd("The account's balance.")
    reserved: Money = usd("Held by requests in flight (and video jobs).")
    available: Money = usd("What new requests can spend: balance minus reserved.")


class Generation(WireModel):
    """One request: what it cost, what it used, who served it and how it ended."""

    id: str = Field(description="The request id (the X-Request-Id of its answer).")
    object: Literal["generation"]
    created: int
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    endpoint: str
    model: str
    provider: str | None
    upstream_model: str | None
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)
    units: int = Field(ge=0, description="Images, characters or milliseconds of audio, per unit_type.")
    unit_type: str | None
    cost_usd: Money
    latency_ms: int | None
    time_to_first_token_ms: int | None
    status: str = Field(description="success, partial, cancelled or error.")
    http_status: int | None
    error_code: str | None
    cancelled: bool
    streamed: bool


class UsageTotals(WireModel):
    requests: int = Field(ge=0)
    errors: int = Field(ge=0)
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    units: int = Field(ge=0)
    cost_usd: Money


class UsagePage(WireModel):
    object: Literal["list"]
    data: list[Generation] = Field(description="Newest first.")
    has_more: bool
    next_cursor: str | None = Field(description="Pass as cursor for the next page.")
    totals: UsageTotals = Field(description="Over the whole filter (every page), from the daily rollup.")


_HEADERS = ("X-Request-Id",)
_SECURITY = {"security": BEARER}
_BAD_QUERY = (
    ("bad_parameter", InvalidRequest("limit: Input should be less than or equal to 100", param="limit")),
)

CREDITS: dict[str, Any] = {
    "tags": ["Account"],
    "responses": {200: ok(Credits, "The balance.", header_names=_HEADERS), **error_responses(401, 500)},
    "openapi_extra": _SECURITY,
}

USAGE: dict[str, Any] = {
    "tags": ["Account"],
    "responses": {
        200: ok(UsagePage, "A page of the key owner's requests, and totals.", header_names=_HEADERS),
        **error_responses(400, 401, 500, examples={400: _BAD_QUERY}),
    },
    "openapi_extra": _SECURITY,
}

GENERATION: dict[str, Any] = {
    "tags": ["Account"],
    "responses": {
        200: ok(Generation, "The request's record.", header_names=_HEADERS),
        **error_responses(
            400,
            401,
            404,
            500,
            examples={
                400: (("missing_id", InvalidRequest("id: Field required", param="id")),),
                404: (
                    (
                        "unknown",
                        NotFound(
                            "no generation with id 'req_0' for this account",
                            code="GENERATION_NOT_FOUND",
                            param="id",
                        ),
                    ),
                ),
            },
        ),
    },
    "openapi_extra": _SECURITY,
}
