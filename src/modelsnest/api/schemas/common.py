"""What every operation of the document shares: exact money, the ``billing`` object, the
headers we send and read, the bearer scheme, and the helpers that turn a request model into
an OpenAPI ``requestBody``.

These models describe the wire; they never parse or build it (the gateway validates and the
answers are written as exact JSON by ``exact_json``), so the hot path pays nothing for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import JsonSchemaMode

MONEY_DESCRIPTION = (
    "US dollars as an exact decimal JSON number (written from integer nano-dollars, never through "
    "a float: parse it as a decimal to keep every digit)."
)

# ``format: decimal`` (OpenAPI's format registry: a fixed-point decimal) lets a generated
# client map amounts to a decimal type.
Money = Annotated[
    Decimal, WithJsonSchema({"type": "number", "format": "decimal", "description": MONEY_DESCRIPTION})
]


def usd(description: str, **field: Any) -> Any:
    """A money field's ``Field``: what the amount is, then what every amount is."""
    return Field(description=f"{description} {MONEY_DESCRIPTION}", **field)


Quantity = Annotated[
    Decimal, WithJsonSchema({"type": "number", "description": "An exact decimal quantity (seconds, …)."})
]

BEARER_SCHEME = "bearerAuth"
SECURITY_SCHEMES: dict[str, Any] = {
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "ptr_…",
        "description": "An API key (`ptr_…`) sent as `Authorization: Bearer ptr_…`.",
    }
}
BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]

_HEADER_REF = "#/components/headers/"


def _header(description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


_INT = {"type": "integer", "minimum": 0}
_USD_TEXT = {"type": "string", "pattern": r"^\d+(\.\d+)?$"}

# ``components.headers``: every response header we send, described once.
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": _header(
        "This request's id: quote it to support, or pass it to `GET /api/v1/generation?id=`.",
        {"type": "string", "pattern": "^req_[0-9a-f]{32}$"},
        required=True,
    ),
    "X-Modelsnest-Provider": _header(
        "The provider that served the request.", {"type": "string", "minLength": 1}, required=True
    ),
    "X-Modelsnest-Upstream-Model": _header(
        "The provider's own id for the model that served the request.",
        {"type": "string", "minLength": 1},
        required=True,
    ),
    "X-Modelsnest-Cost-USD": _header(
        "What the request cost, in US dollars (exact decimal text); for a video job, its estimate.",
        _USD_TEXT,
    ),
    "X-Modelsnest-Characters": _header("Characters billed, counted on the server.", _INT),
    "X-Modelsnest-Audio-Seconds": _header(
        "Seconds of audio billed, measured from the uploaded file.", _USD_TEXT
    ),
    "X-RateLimit-Limit-Requests": _header("The key's requests-per-minute limit (keys with one).", _INT),
    "X-RateLimit-Remaining-Requests": _header("Requests left in the current minute window.", _INT),
    "X-RateLimit-Reset-Requests": _header(
        "When the request window resets, e.g. `12s`.", {"type": "string", "pattern": r"^\d+s$"}
    ),
    "X-RateLimit-Limit-Tokens": _header("The key's tokens-per-minute limit (keys with one).", _INT),
    "X-RateLimit-Remaining-Tokens": _header("Tokens left in the current minute window.", _INT),
    "Idempotent-Replayed": _header(
        "`true` when this is the stored answer of an earlier request with the same `Idempotency-Key`.",
        {"type": "string", "enum": ["true"]},
    ),
    "Retry-After": _header(
        "Seconds to wait before retrying.", {"type": "integer", "minimum": 1}, required=True
    ),
}


def headers(*names: str) -> dict[str, Any]:
    """Response ``headers`` referring to ``components.headers``."""
    unknown = [name for name in names if name not in RESPONSE_HEADERS]
    if unknown:
        raise KeyError(f"undeclared response headers: {unknown}")
    return {name: {"$ref": _HEADER_REF + name} for name in names}


RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit-Requests",
    "X-RateLimit-Remaining-Requests",
    "X-RateLimit-Reset-Requests",
    "X-RateLimit-Limit-Tokens",
    "X-RateLimit-Remaining-Tokens",
)
# What a successful paid answer carries (a replay carries the same, plus ``Idempotent-Replayed``).
SERVED_HEADERS = (
    "X-Request-Id",
    "X-Modelsnest-Provider",
    "X-Modelsnest-Upstream-Model",
    "X-Modelsnest-Cost-USD",
    *RATE_LIMIT_HEADERS,
    "Idempotent-Replayed",
)

IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: the same key with the same body within 24 hours returns the stored "
        "answer without calling the model or charging again; the same key with another body is a "
        "409. Keys are scoped to the API key. Streams are never stored."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def component(model: type[BaseModel], mode: JsonSchemaMode = "serialization") -> dict[str, Any]:
    """``{"$ref": …, "$defs": {…}}``: a reference to the model in ``components.schemas``,
    carrying the definitions that ``api.openapi`` moves there (for schemas FastAPI cannot
    see: the bodies the lane routes read themselves, the events of a stream)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
    definitions = schema.pop("$defs", {})
    definitions[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}", "$defs": definitions}


def request_body(
    model: type[BaseModel],
    examples: Mapping[str, Mapping[str, Any]],
    *,
    media_type: str = "application/json",
    description: str | None = None,
    encoding: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``openapi_extra`` declaring the body a handler reads by itself (the lane routes parse
    their bodies in the gateway, so FastAPI cannot see them). ``examples``: name → value."""
    content: dict[str, Any] = {
        "schema": component(model, "validation"),
        "examples": {
            name: {"summary": name.replace("_", " "), "value": dict(value)}
            for name, value in examples.items()
        },
    }
    if encoding:
        content["encoding"] = dict(encoding)
    body: dict[str, Any] = {"required": True, "content": {media_type: content}}
    if description:
        body["description"] = description
    return {"requestBody": body}


def ok(
    model: Any,
    description: str,
    *,
    header_names: tuple[str, ...] = SERVED_HEADERS,
    content: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A success response: ``model`` (a model class, a union of them, or None) as its JSON
    body (FastAPI puts it in the components), any other media types in ``content``."""
    response: dict[str, Any] = {"description": description, "headers": headers(*header_names)}
    if model is not None:
        response["model"] = model
    if content:
        response["content"] = dict(content)
    return response


def string_content(description: str, *media_types: str) -> dict[str, Any]:
    return {
        media_type: {"schema": {"type": "string", "description": description}} for media_type in media_types
    }


def binary_content(*media_types: str) -> dict[str, Any]:
    return {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in media_types}


class WireModel(BaseModel):
    """A response object as we write it; upstreams may add fields, so extra ones are allowed."""

    model_config = ConfigDict(extra="allow")


class CatalogPricing(WireModel):
    slug: str
    input_price: Money | None = usd("Catalog price per unit of input (see price_unit).")
    output_price: Money | None = usd("Catalog price per unit of output, 0 if none.")
    price_unit: str | None = Field(
        description="per_1k_tokens, per_image, per_second, per_minute, per_character, per_1k_characters or per_request."
    )


class Billing(WireModel):
    """What the request cost and the prices it was billed at."""

    cost_usd: Money = usd("This request's cost, rounded up once to a nano-dollar.")
    input_price_per_1k: Money | None = usd("Price per 1,000 input tokens or characters, if the unit has one.")
    output_price_per_1k: Money | None = usd("Price per 1,000 output tokens, if the unit has one.")
    catalog_pricing: CatalogPricing


class UnitBilling(Billing):
    """`Billing` of a per-unit endpoint, with the quantity measured and billed."""

    billed_quantity: Quantity = Field(description="How many units were billed (images, seconds, characters).")
    billed_unit: str = Field(description="image, second or character.")


__all__ = [
    "BEARER",
    "IDEMPOTENCY_KEY",
    "MONEY_DESCRIPTION",
    "RATE_LIMIT_HEADERS",
    "RESPONSE_HEADERS",
    "SECURITY_SCHEMES",
    "SERVED_HEADERS",
    "Billing",
    "CatalogPricing",
    "Money",
    "Quantity",
    "usd",
    "UnitBilling",
    "WireModel",
    "binary_content",
    "component",
    "headers",
    "ok",
    "request_body",
    "string_content",
]
