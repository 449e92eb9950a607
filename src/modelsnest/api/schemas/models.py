"""``GET /api/v1/models`` and ``/models/{slug}``: OpenAI's model objects with our catalog
fields and exact prices (no key needed)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from modelsnest.api.schemas.common import Money, WireModel, ok, usd
from modelsnest.api.schemas.errors import error_responses
from modelsnest.catalog.types import ENDPOINTS, MODEL_STATUSES
from modelsnest.errors import ModelError, NotFound


class ModelPricing(WireModel):
    unit: str = Field(description="per_1k_tokens, per_image, per_second, per_minute, per_character, …")
    input: Money = usd("Price per unit of input.")
    output: Money = usd("Price per unit of output (0 when the unit prices only input).")
    currency: Literal["USD"]


class Model(WireModel):
    id: str = Field(description="The id to send as `model`.")
    object: Literal["model"]
    created: int
    owned_by: str = Field(description="The model's vendor.")
    name: str
    category: str
    endpoint: str = Field(json_schema_extra={"enum": list(ENDPOINTS)}, description="Which API serves it.")
    status: str = Field(json_schema_extra={"enum": list(MODEL_STATUSES)})
    context_length: int | None
    max_output_tokens: int | None
    capabilities: dict[str, Any]
    pricing: ModelPricing | None
    available: bool = Field(description="Callable now: it has a provider and is not disabled.")


class ModelList(WireModel):
    object: Literal["list"]
    data: list[Model]


_HEADERS = ("X-Request-Id",)

LIST: dict[str, Any] = {
    "tags": ["Models"],
    "responses": {
        200: ok(ModelList, "Every model you can call.", header_names=_HEADERS),
        **error_responses(500),
    },
}

GET: dict[str, Any] = {
    "tags": ["Models"],
    "responses": {
        200: ok(Model, "The model.", header_names=_HEADERS),
        **error_responses(
            400,
            404,
            500,
            examples={
                400: (
                    (
                        "unknown_model",
                        ModelError(
                            "model 'no-such-model' does not exist", code="MODEL_NOT_FOUND", param="model"
                        ),
                    ),
                ),
                # A path no route matches (an id with a line break in it) is the router's 404.
                404: (("no_such_path", NotFound("Not Found")),),
            },
        ),
    },
}
