"""Asynchronous video: ``POST /api/v1/video/generations`` answers 202 with a job (credits for
its duration held), ``GET /api/v1/video/generations/{job_id}`` follows it. Fields and limits
are those of ``gateway.video``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelsnest.api.schemas.common import BEARER, IDEMPOTENCY_KEY, Money, WireModel, ok, request_body, usd
from modelsnest.api.schemas.errors import PAID_ERRORS, error_responses
from modelsnest.errors import NotFound
from modelsnest.gateway.video import DEFAULT_SECONDS, MAX_SECONDS

JobStatus = Literal["queued", "running", "succeeded", "failed"]


class VideoGenerationRequest(BaseModel):
    """Fields not listed are passed to the provider as sent."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="A video model id from `GET /api/v1/models`.")
    prompt: str = Field(min_length=1, pattern=r"\S")
    duration: int = Field(
        DEFAULT_SECONDS,
        ge=1,
        le=MAX_SECONDS,
        description="Whole seconds; billed per second of video delivered.",
    )
    duration_seconds: int = Field(
        DEFAULT_SECONDS, ge=1, le=MAX_SECONDS, description="Another name of duration (duration wins)."
    )
    width: int | None = Field(None, ge=64, le=4096)
    height: int | None = Field(None, ge=64, le=4096)
    image_url: str | None = Field(None, description="A first frame, for image-to-video models.")


class VideoJobSubmitted(WireModel):
    id: str = Field(description="The job id, for GET /api/v1/video/generations/{job_id}.")
    object: Literal["video.generation"]
    status: Literal["queued"]
    model: str
    created: int
    duration_seconds: int
    estimated_cost_usd: Money = usd("Held now; charged only if the video is delivered.")


class VideoBilling(WireModel):
    cost_usd: Money
    billed_quantity: int
    billed_unit: Literal["second"]


class VideoJobError(WireModel):
    code: str | None
    message: str | None


class VideoJob(WireModel):
    id: str
    object: Literal["video.generation"]
    status: JobStatus
    progress: int = Field(ge=0, le=100)
    model: str
    created: int
    duration_seconds: int
    video_url: str | None = Field(None, description="When succeeded: where we serve the video (expires).")
    billing: VideoBilling | None = Field(None, description="When succeeded: what was charged.")
    error: VideoJobError | None = Field(None, description="When failed (nothing was charged).")


EXAMPLES: dict[str, dict[str, Any]] = {
    "five_seconds": {"model": "sora-2", "prompt": "A paper boat drifting down a rainy street", "duration": 5},
    "small_and_short": {
        "model": "sora-2",
        "prompt": "Waves at night",
        "duration": 2,
        "width": 320,
        "height": 240,
    },
}

SUBMIT: dict[str, Any] = {
    "tags": ["Video"],
    "responses": {
        202: ok(VideoJobSubmitted, "The job was accepted; poll it until it succeeds or fails."),
        **error_responses(*PAID_ERRORS),
    },
    "openapi_extra": {
        **request_body(VideoGenerationRequest, EXAMPLES),
        "parameters": [IDEMPOTENCY_KEY],
        "security": BEARER,
    },
}

GET_JOB: dict[str, Any] = {
    "tags": ["Video"],
    "responses": {
        200: ok(
            VideoJob,
            "The job's state; the video's link and billing once it succeeded.",
            header_names=("X-Request-Id",),
        ),
        **error_responses(
            401,
            404,
            500,
            examples={
                404: (
                    (
                        "unknown_job",
                        NotFound("no video generation with id 'vid_x'", code="VIDEO_NOT_FOUND", param="id"),
                    ),
                )
            },
        ),
    },
    "openapi_extra": {"security": BEARER},
}
