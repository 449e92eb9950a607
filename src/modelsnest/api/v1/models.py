from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from modelsnest.api.deps import GatewayDep
from modelsnest.api.schemas import models as schemas
from modelsnest.catalog.pricing import price_json
from modelsnest.catalog.types import ModelInfo
from modelsnest.errors import ModelError
from modelsnest.exact_json import dumps

router = APIRouter()


def model_object(model: ModelInfo, created: int) -> dict[str, Any]:
    price = model.pricing
    return {
        "id": model.slug,
        "object": "model",
        "created": created,
        "owned_by": model.vendor,
        "name": model.name,
        "category": model.category,
        "endpoint": model.endpoint,
        "status": model.status,
        "context_length": model.context_length,
        "max_output_tokens": model.max_output_tokens,
        "capabilities": dict(model.capabilities),
        # unit, input, output, currency, then the further dimensions, tiers and image prices.
        "pricing": None if price is None else price_json(price),
        "available": bool(model.routes) and model.status != "disabled",
    }


@router.get("/models", operation_id="list_models", summary="List models", **schemas.LIST)
async def list_models(gateway: GatewayDep) -> Response:
    """Every catalog model (OpenAI list shape) with its category, price per unit and status."""
    snapshot = await gateway.catalog.get()
    created = int(snapshot.loaded_at.timestamp())
    data = [model_object(m, created) for m in snapshot.models.values() if m.status != "disabled"]
    return Response(dumps({"object": "list", "data": data}), media_type="application/json")


@router.get("/models/{slug:path}", operation_id="get_model", summary="Get a model", **schemas.GET)
async def get_model(
    gateway: GatewayDep, slug: str = Path(openapi_examples={"chat": {"value": "deepseek"}})
) -> Response:
    """One catalog model, by the id sent as `model`."""
    snapshot = await gateway.catalog.get()
    model = snapshot.models.get(slug)
    if model is None or model.status == "disabled":
        raise ModelError(f"model '{slug}' does not exist", code="MODEL_NOT_FOUND", param="model")
    return Response(
        dumps(model_object(model, int(snapshot.loaded_at.timestamp()))), media_type="application/json"
    )
