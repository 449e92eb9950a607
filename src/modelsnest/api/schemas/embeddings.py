"""``POST /api/v1/embeddings``: OpenAI's request (checked by ``gateway.embeddings``, then passed
whole to the provider) and list answer, with ``billing`` and ``usage.cost``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelsnest.api.schemas.common import BEARER, IDEMPOTENCY_KEY, Billing, Money, WireModel, ok, request_body
from modelsnest.api.schemas.errors import PAID_ERRORS, error_responses
from modelsnest.gateway.embeddings import MAX_INPUTS

Text = Annotated[str, Field(min_length=1)]
Tokens = Annotated[list[int], Field(min_length=1)]


class EmbeddingsRequest(BaseModel):
    """Fields not listed are passed to the provider as sent."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, description="An embeddings model id from `GET /api/v1/models`.")
    input: (
        Text
        | Annotated[list[Text], Field(min_length=1, max_length=MAX_INPUTS)]
        | Tokens
        | Annotated[list[Tokens], Field(min_length=1, max_length=MAX_INPUTS)]
    ) = Field(
        description=f"Text, texts, a token array or token arrays (at most {MAX_INPUTS} items), none empty."
    )
    encoding_format: Literal["float", "base64"] | None = Field(
        None, description="base64: little-endian float32 bytes, base64-encoded."
    )
    dimensions: int | None = Field(None, ge=1, description="Shorten the vectors (models that support it).")
    user: str | None = None


class Embedding(WireModel):
    object: Literal["embedding"]
    index: int = Field(ge=0)
    embedding: list[float] | str = Field(description="The vector, or its base64 with encoding_format=base64.")


class EmbeddingsUsage(WireModel):
    prompt_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)
    cost: Money


class EmbeddingsList(WireModel):
    object: Literal["list"]
    data: list[Embedding]
    model: str
    usage: EmbeddingsUsage
    billing: Billing


EXAMPLES: dict[str, dict[str, Any]] = {
    "one_text": {"model": "text-embedding-3-small", "input": "The food was delicious."},
    "several_shortened": {
        "model": "text-embedding-3-small",
        "input": ["first document", "second document"],
        "dimensions": 256,
    },
}

OPENAPI: dict[str, Any] = {
    "tags": ["Embeddings"],
    "responses": {200: ok(EmbeddingsList, "One embedding per input."), **error_responses(*PAID_ERRORS)},
    "openapi_extra": {
        **request_body(EmbeddingsRequest, EXAMPLES),
        "parameters": [IDEMPOTENCY_KEY],
        "security": BEARER,
    },
}
