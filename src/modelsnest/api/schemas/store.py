"""``ANY /api/v1/store/{slug}/{path}``: an API Store call. Any method the product allows, any
body, any answer: the document declares what is ours (the key, the path parameters, our
errors in the one error shape) and leaves the product's own request and answer open (each
product's page in the dashboard documents its API). One operation per method, so that each
has its own ``operationId``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelsnest.api.schemas.common import BEARER, ok
from modelsnest.api.schemas.errors import error_responses
from modelsnest.errors import (
    InsufficientCredits,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    StreamBroken,
    UpstreamError,
    UpstreamTimeout,
)

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
WITH_BODY = ("POST", "PUT", "PATCH", "DELETE")

PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "slug",
        "in": "path",
        "required": True,
        "description": "The product, as the API Store lists it (`GET /dashboard`).",
        "schema": {"type": "string", "minLength": 1},
        "examples": {"qr_code": {"value": "qr-code"}},
    },
    {
        "name": "path",
        "in": "path",
        "required": True,
        "description": "The path below the product (may hold `/`), checked against the product's paths.",
        "schema": {"type": "string"},
        "examples": {"qr_code": {"value": "generate"}},
    },
]

_BODY: dict[str, Any] = {
    "description": "Whatever the product takes (JSON, HTML, a PDF …), streamed to it as sent, "
    "up to the product's size cap.",
    "content": {
        "*/*": {
            "schema": {"description": "The product's own request body."},
            "examples": {"html": {"value": "<h1>Hello</h1>"}},
        }
    },
}

_ANSWER = ok(
    None,
    "The product's own answer (its status, headers and body, streamed). The call is billed at "
    "the product's price per call (and per MB where priced); a failed call costs nothing.",
    header_names=("X-Request-Id",),
    content={"*/*": {"schema": {"description": "The product's own answer body."}}},
)

# status → (example name, the error the store raises)
EXAMPLES: dict[int, Sequence[tuple[str, BaseException]]] = {
    400: (
        (
            "unavailable",
            InvalidRequest(
                "Store product 'qr-code' is currently unavailable.", code="PRODUCT_UNAVAILABLE", param="slug"
            ),
        ),
        ("bad_input", InvalidRequest("Give the text to encode as 'data'.", param="data")),
    ),
    402: (("insufficient_credits", InsufficientCredits("insufficient credits for this call")),),
    403: (
        (
            "not_allowed",
            PermissionDenied("This API key may not use 'store-qr-code'.", code="PRODUCT_NOT_ALLOWED"),
        ),
    ),
    404: (
        (
            "no_product",
            NotFound("There is no store product 'nope'.", code="PRODUCT_NOT_FOUND", param="slug"),
        ),
        ("no_path", NotFound("'qr-code' has no path '/nope'.", code="PATH_NOT_FOUND", param="path")),
    ),
    405: (("method", MethodNotAllowed("'qr-code' accepts GET, not POST.", param="method")),),
    413: (("too_large", PayloadTooLarge("The request body is larger than this product's 1048576 bytes.")),),
    429: (
        (
            "product_rate",
            RateLimited("'qr-code' allows 60 calls per minute per key.", retry_after=20),
        ),
    ),
    502: (
        ("upstream_failed", UpstreamError("'qr-code' upstream answered HTTP 500")),
        ("cut", StreamBroken("the answer was cut at the product's size cap")),
    ),
    504: (("upstream_timeout", UpstreamTimeout("'qr-code' upstream timed out")),),
}

ERRORS = (400, 401, 402, 403, 404, 405, 413, 429, 500, 502, 504)


def operation(method: str) -> dict[str, Any]:
    """The keyword arguments of ``add_api_route`` documenting ``method`` on the store path."""
    extra: dict[str, Any] = {"parameters": PARAMETERS, "security": BEARER}
    if method in WITH_BODY:
        extra["requestBody"] = {**_BODY, "required": method == "POST"}
    return {
        "tags": ["API Store"],
        "responses": {200: _ANSWER, **error_responses(*ERRORS, examples=EXAMPLES)},
        "openapi_extra": extra,
    }


__all__ = ["EXAMPLES", "METHODS", "PARAMETERS", "operation"]
