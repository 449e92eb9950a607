"""``POST /api/v1/images/generations`` (and its alias ``/images/generate``): the fields
``gateway.images`` checks, the images we store and serve (or return inline), billed per image."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelsnest.api.schemas.common import (
    BEARER,
    IDEMPOTENCY_KEY,
    Money,
    UnitBilling,
    WireModel,
    ok,
    request_body,
)
from modelsnest.api.schemas.errors import PAID_ERRORS, error_responses
from modelsnest.gateway.images import MAX_IMAGES, MAX_PROMPT, MAX_SIDE, MIN_SIDE


class ImageGenerationRequest(BaseModel):
    """Fields not listed are passed to the provider as sent."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="An image model id from `GET /api/v1/models`.")
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT, pattern=r"\S")
    n: int = Field(1, ge=1, le=MAX_IMAGES, description="How many images.")
    num_images: int = Field(1, ge=1, le=MAX_IMAGES, description="Another name of n (n wins).")
    size: str | None = Field(
        None,
        pattern=r"^\d{1,5}x\d{1,5}$",
        description=f"WIDTHxHEIGHT, each side from {MIN_SIDE} to {MAX_SIDE} (default 1024x1024).",
    )
    width: int | None = Field(None, ge=MIN_SIDE, le=MAX_SIDE, description="Instead of size.")
    height: int | None = Field(None, ge=MIN_SIDE, le=MAX_SIDE, description="Instead of size.")
    quality: str | None = None
    style: str | None = None
    response_format: Literal["url", "b64_json"] | None = Field(
        None, description="url (default): a link to the file we serve, valid 24 hours; b64_json: inline."
    )


class Image(WireModel):
    url: str | None = Field(None, description="Where we serve the image (expires; no upstream URL).")
    b64_json: str | None = None
    revised_prompt: str | None = None


class ImagesUsage(WireModel):
    images: int = Field(ge=0)
    cost: Money


class ImagesResponse(WireModel):
    created: int
    model: str
    data: list[Image]
    usage: ImagesUsage
    billing: UnitBilling


EXAMPLES: dict[str, dict[str, Any]] = {
    "one_image": {"model": "flux-1-schnell", "prompt": "A lighthouse at dawn, watercolor", "size": "512x512"},
    "inline_pair": {
        "model": "flux-1-schnell",
        "prompt": "A red bicycle",
        "n": 2,
        "size": "256x256",
        "response_format": "b64_json",
    },
}

OPENAPI: dict[str, Any] = {
    "tags": ["Images"],
    "responses": {
        200: ok(ImagesResponse, "The images, billed per image returned."),
        **error_responses(*PAID_ERRORS),
    },
    "openapi_extra": {
        **request_body(ImageGenerationRequest, EXAMPLES),
        "parameters": [IDEMPOTENCY_KEY],
        "security": BEARER,
    },
}
